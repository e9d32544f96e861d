//! Resource endpoints for the hot paths, shaped as an integrator expects: the path names
//! the resource, the body carries the rest of the command (as `POST /v1/commands` takes
//! it, without `type`). Each is one command through the same path as `/v1/commands`, so
//! every rule, code and guarantee is the same. A command's idempotency `id`, when the body
//! has none, is the `Idempotency-Key` header, else one the service makes up.

use crate::app::Shared;
use crate::problem::Problem;
use crate::routes::commands::{self, Parsed};
use crate::tokens::{Principal, Role};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dacu_core::market::CartLine;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

const WRITERS: &[Role] = &[Role::Operator, Role::Integration];

static MADE_UP: AtomicU64 = AtomicU64::new(1);

/// The command a resource endpoint stands for: `ty` with the path's fields and the body.
async fn resource(
    app: &Shared,
    who: &Principal,
    headers: &HeaderMap,
    ty: &str,
    path: &[(&str, &str)],
    body: Value,
    roles: &[Role],
) -> Response {
    if let Err(p) = who.require(roles) {
        return p.into_response();
    }
    let Value::Object(mut m) = body else {
        return Problem::bad_request("the body must be a JSON object of the command's fields").into_response();
    };
    for (k, v) in path {
        match m.get(*k) {
            Some(Value::String(s)) if s != v => {
                return Problem::bad_request(format!("`{k}` is `{v}` in the path and `{s}` in the body"))
                    .at(format!("/{k}"))
                    .into_response()
            }
            _ => {
                m.insert((*k).into(), Value::String((*v).into()));
            }
        }
    }
    if m.contains_key("type") {
        return Problem::bad_request("the path names the command: leave `type` out of the body")
            .at("/type")
            .into_response();
    }
    m.insert("type".into(), Value::String(ty.into()));
    if !m.contains_key("id") && takes_id(ty) {
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
        let id =
            key.unwrap_or_else(|| format!("http-{:x}-{}", std::process::id(), MADE_UP.fetch_add(1, Ordering::Relaxed)));
        m.insert("id".into(), Value::String(id));
    }
    let value = Value::Object(m);
    // The fingerprint's text is needed only under an idempotency key.
    let what = if headers.contains_key("idempotency-key") {
        serde_json::to_vec(&value).expect("JSON serialises")
    } else {
        Vec::new()
    };
    let key = match crate::idempotency::take(app, who, headers, &[b"POST", ty.as_bytes(), &what]) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    let parsed = match commands::parse_command(value) {
        Ok((c, v, s)) => Parsed {
            commands: vec![c],
            bodies: vec![commands::Body::Value(v)],
            stamp: vec![s],
            bad: Vec::new(),
            single: true,
            events: true,
        },
        Err((_, p)) => return p.into_response(),
    };
    commands::run(app, parsed, key).await
}

/// The commands whose `id` is required (every other takes an optional one).
fn takes_id(ty: &str) -> bool {
    !matches!(ty, "order_paid" | "refund" | "viewer_enter" | "viewer_leave" | "interaction")
}

macro_rules! endpoint {
    ($name:ident, $path:literal, $ty:literal, $p:ident = $pname:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "resources", description = $doc,
            params(($pname = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "The request's idempotency key (1 to 255 visible ASCII characters; docs/api.md, Idempotency), also the command's id when the body has none")),
            request_body(content = Object, description = concat!("The fields of `", $ty, "` (docs/commands.md), without `type` and the path's")),
            responses((status = 200, body = crate::app::CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
                (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
                (status = 429, body = Problem), (status = 503, body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(app): State<Shared>,
            who: Principal,
            headers: HeaderMap,
            Path($p): Path<String>,
            body: Option<Json<Value>>,
        ) -> Response {
            let body = body.map_or(Value::Object(Map::new()), |b| b.0);
            resource(&app, &who, &headers, $ty, &[($pname, $p.as_str())], body, WRITERS).await
        }
    };
}

endpoint!(claim_coupon, "/v1/coupons/{coupon}/claims", "claim_coupon", coupon = "coupon", "Claim a coupon for a user.");
endpoint!(
    grab_red_packet,
    "/v1/red-packets/{packet}/grabs",
    "grab_red_packet",
    packet = "packet",
    "Grab a share of a live-room red packet."
);
endpoint!(
    join_group,
    "/v1/groups/{group}/members",
    "join_group",
    group = "group",
    "Join an open group of a group deal."
);
endpoint!(
    pay,
    "/v1/checkouts/{checkout}/pay",
    "pay",
    checkout = "checkout",
    "Pay a reserved checkout: its orders are paid."
);
endpoint!(
    cancel,
    "/v1/checkouts/{checkout}/cancel",
    "cancel",
    checkout = "checkout",
    "Cancel a reserved checkout: what it held comes back."
);
endpoint!(
    enter_room,
    "/v1/sessions/{session}/viewers",
    "viewer_enter",
    session = "session",
    "A viewer enters a live room."
);
endpoint!(
    interact,
    "/v1/sessions/{session}/interactions",
    "interaction",
    session = "session",
    "A comment (a lottery's passphrase enters it), like, share or follow in a live room."
);

#[utoipa::path(delete, path = "/v1/sessions/{session}/viewers/{user}", tag = "resources",
    params(("session" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = crate::app::CommandResult), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
/// A viewer leaves a live room.
pub async fn leave_room(
    State(app): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    Path((session, user)): Path<(String, String)>,
) -> Response {
    let body = Value::Object(Map::new());
    resource(&app, &who, &headers, "viewer_leave", &[("session", &session), ("user", &user)], body, WRITERS).await
}

macro_rules! flat {
    ($name:ident, $path:literal, $ty:literal, $roles:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "resources", description = $doc,
            params(("Idempotency-Key" = Option<String>, Header, description = "The request's idempotency key (1 to 255 visible ASCII characters; docs/api.md, Idempotency), also the command's id when the body has none")),
            request_body(content = Object, description = concat!("The fields of `", $ty, "` (docs/commands.md), without `type`")),
            responses((status = 200, body = crate::app::CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
                (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
                (status = 429, body = Problem), (status = 503, body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(State(app): State<Shared>, who: Principal, headers: HeaderMap, body: Option<Json<Value>>) -> Response {
            let body = body.map_or(Value::Object(Map::new()), |b| b.0);
            resource(&app, &who, &headers, $ty, &[], body, $roles).await
        }
    };
}

flat!(open_group, "/v1/groups", "open_group", WRITERS, "Open a group of a group deal (the opener joins it).");
flat!(checkout, "/v1/checkouts", "checkout", WRITERS, "Open a checkout: the best price under the stacking policy, its coupons and red-packet money held until it is paid.");
flat!(order, "/v1/orders", "order_paid", WRITERS, "Feed a paid order (live room or shelf).");
flat!(refund, "/v1/refunds", "refund", WRITERS, "Feed a refund of an order.");
flat!(
    impression,
    "/v1/impressions",
    "impression",
    WRITERS,
    "Impression opportunities at a venue slot for an audience segment (`count`, default 1): answered with the guaranteed contracts to show (docs/traffic.md, Serving)."
);
flat!(
    settle,
    "/v1/settle",
    "settle",
    &[Role::Operator],
    "Settle: close the boards, challenges and programs whose windows ended, pay within budgets, claw back."
);

flat!(
    set_registration_all,
    "/v1/registration",
    "set_registration",
    &[Role::Operator],
    "Close enrolment early, or open it again, in every program whose festival-file window is open (`{\"open\": false}`)."
);

#[utoipa::path(post, path = "/v1/programs/{program}/registration", tag = "resources",
    description = "Close enrolment in one program early, or open it again, inside the window the festival file gives it (`{\"open\": false}`).",
    params(("program" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "The request's idempotency key (1 to 255 visible ASCII characters; docs/api.md, Idempotency), also the command's id when the body has none")),
    request_body(content = Object, description = "`open` (and optionally `id`, `at`)"),
    responses((status = 200, body = crate::app::CommandResult), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
/// Close or reopen enrolment in one program.
pub async fn set_registration(
    State(app): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    Path(program): Path<String>,
    body: Option<Json<Value>>,
) -> Response {
    let body = body.map_or(Value::Object(Map::new()), |b| b.0);
    resource(&app, &who, &headers, "set_registration", &[("program", &program)], body, &[Role::Operator]).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub user: String,
    /// The time to price at (default: the service's clock).
    pub at: Option<String>,
    /// `{merchant, sku, qty, price}` lines.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<CartLine>,
    pub at_least: Option<u64>,
}

#[utoipa::path(post, path = "/v1/quote", tag = "resources", request_body = QuoteRequest,
    responses((status = 200, description = "The price: every discount, its bearers, per line; nothing changes", body = Object),
        (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
/// Price a cart for a user, changing nothing.
pub async fn quote(State(app): State<Shared>, who: Principal, Json(q): Json<QuoteRequest>) -> Response {
    if let Err(p) = who.require(WRITERS) {
        return p.into_response();
    }
    let at = match q.at.as_deref().map(dacu_core::Ts::parse).transpose() {
        Ok(Some(t)) => t,
        Ok(None) => app.clock.now(),
        Err(e) => return Problem::bad_request(format!("`at`: {e}")).at("/at").into_response(),
    };
    let (user, lines) = (q.user, q.lines);
    match app.read_light(q.at_least.unwrap_or(0), move |e| e.quote(&user, &lines, at)).await {
        Ok((Ok(quote), _)) => Json(quote).into_response(),
        Ok((Err(r), _)) => Problem::rejection(&r).into_response(),
        Err(p) => p.into_response(),
    }
}
