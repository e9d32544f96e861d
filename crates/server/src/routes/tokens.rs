//! Tokens through the API: an operator creates, lists and revokes them.

use crate::app::Shared;
use crate::problem::{codes, Problem};
use crate::tokens::{ChangeError, Principal, Role, Token};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub role: Role,
    /// For a participant token: its id …
    pub participant: Option<String>,
    /// … and role: `merchant` (a brand too), `anchor` or `provider`.
    pub participant_role: Option<String>,
    /// How long it lives: `90s`, `30m`, `12h`, `7d` (default: until revoked).
    pub expires: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The token: shown this once, stored only hashed.
    pub token: String,
    pub record: Token,
}

#[utoipa::path(post, path = "/v1/tokens", tag = "operator", request_body = NewToken,
    responses((status = 201, body = Created), (status = 400, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(app): State<Shared>, who: Principal, Json(t): Json<NewToken>) -> Response {
    if let Err(p) = who.require(&[Role::Operator]) {
        return p.into_response();
    }
    let participant = match (t.participant, t.participant_role.as_deref()) {
        (Some(p), Some(r)) => match crate::tokens::participant_role(r) {
            Some(r) => Some((r, p)),
            None => {
                return Problem::bad_request(format!("`participant_role` is merchant, anchor or provider, got `{r}`"))
                    .at("/participant_role")
                    .into_response()
            }
        },
        (Some(_), None) => {
            return Problem::bad_request("a participant token needs `participant_role`")
                .at("/participant_role")
                .into_response()
        }
        (None, Some(_)) => {
            return Problem::bad_request("`participant_role` needs `participant`").at("/participant").into_response()
        }
        (None, None) => None,
    };
    let lifetime = match t.expires.as_deref().map(crate::tokens::parse_duration_s).transpose() {
        Ok(l) => l,
        Err(e) => return Problem::bad_request(e).at("/expires").into_response(),
    };
    let limit = app.cfg.limits.tokens;
    match crate::tokens::change(&app, |all| all.create(t.role, participant.clone(), lifetime, limit)).await {
        Ok((token, record)) => (StatusCode::CREATED, Json(Created { token, record })).into_response(),
        Err(ChangeError::Refused(e)) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, codes::BAD_REQUEST, e).into_response()
        }
        Err(ChangeError::Store(e)) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e).into_response(),
    }
}

#[utoipa::path(get, path = "/v1/tokens", tag = "operator", responses((status = 200, body = Vec<Token>), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn list(State(app): State<Shared>, who: Principal) -> Response {
    if let Err(p) = who.require(&[Role::Operator]) {
        return p.into_response();
    }
    Json(app.tokens.read().expect("tokens").tokens.clone()).into_response()
}

#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "operator", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn revoke(State(app): State<Shared>, who: Principal, Path(id): Path<String>) -> Response {
    if let Err(p) = who.require(&[Role::Operator]) {
        return p.into_response();
    }
    let revoked = |all: &mut crate::tokens::Tokens| match all.revoke(&id) {
        true => Ok(()),
        false => Err(format!("no live token `{id}`")),
    };
    match crate::tokens::change(&app, revoked).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(ChangeError::Refused(e)) => Problem::not_found(e).into_response(),
        Err(ChangeError::Store(e)) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e).into_response(),
    }
}
