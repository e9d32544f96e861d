//! The festival console: live screens served by the binary itself (docs/console.md).
//!
//! - `/login?token=TOKEN` checks the token, sets it as an HttpOnly, Secure, SameSite=Strict
//!   cookie and redirects to `/`, so a link can be handed to a person.
//! - `/`: the operator console (operator and integration tokens) or the participant's own
//!   view (participant tokens).
//! - `/participants/{role}/{id}`, `/boards/{race}`, `/sessions/{session}` (its 复盘
//!   review), `/ledger`: the pages one click away.
//! - `/assets/*`: the pages' stylesheet and scripts, embedded in the binary.
//!
//! Pages are a shell; their scripts read the JSON API and follow one push stream each
//! (`GET /v1/events`). The cookie authenticates GET requests only (see
//! [`crate::app`]): a page can read and follow, and no other site can make a browser
//! with the cookie write anything.

pub mod view;

use crate::app::Shared;
use crate::problem::Problem;
use crate::tokens::{Principal, Role};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dacu_core::festival::Role as PRole;
use serde::Deserialize;

/// The cookie the console's token travels in.
pub const COOKIE: &str = "dacu_token";

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .route("/participants/{role}/{id}", get(participant_page))
        .route("/boards/{race}", get(board_page))
        .route("/sessions/{session}", get(session_page))
        .route("/ledger", get(ledger_page))
        .route("/api", get(api_page))
        .route("/assets/{file}", get(asset))
}

/// The console token in a request's cookies, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

const SHELL: &str = include_str!("assets/page.html");

/// (name, type, body): every asset, embedded.
const ASSETS: &[(&str, &str, &str)] = &[
    ("console.css", "text/css; charset=utf-8", include_str!("assets/console.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("assets/common.js")),
    ("operator.js", "text/javascript; charset=utf-8", include_str!("assets/operator.js")),
    ("participant.js", "text/javascript; charset=utf-8", include_str!("assets/participant.js")),
    ("board.js", "text/javascript; charset=utf-8", include_str!("assets/board.js")),
    ("review.js", "text/javascript; charset=utf-8", include_str!("assets/review.js")),
    ("ledger.js", "text/javascript; charset=utf-8", include_str!("assets/ledger.js")),
    ("error.js", "text/javascript; charset=utf-8", include_str!("assets/error.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("assets/api.js")),
    ("favicon.svg", "image/svg+xml", include_str!("assets/favicon.svg")),
];

/// Scripts and styles from this origin only; nothing inline, nothing from elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A page: the shell with its script, title and the data attributes its script reads.
fn page(status: StatusCode, script: &str, title: &str, data: &[(&str, &str)]) -> Response {
    let attrs: String = data.iter().map(|(k, v)| format!(" data-{k}=\"{}\"", escape(v))).collect();
    let html = SHELL.replace("{{title}}", &escape(title)).replace("{{script}}", script).replace("{{data}}", &attrs);
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The page for a request that carries no valid token, or a refused one.
fn refused(p: Problem) -> Response {
    let status = p.status();
    page(status, "error", &format!("{} {}", status.as_u16(), p.code), &[("error", &p.detail)])
}

fn participant_data(role: PRole, id: &str) -> [(&'static str, String); 2] {
    [("role", role.as_str().to_string()), ("id", id.to_string())]
}

async fn home(State(app): State<Shared>, who: Result<Principal, Problem>) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(p) => return refused(p),
    };
    let name = app.festival.festival.name_zh.clone();
    match (&who.role, &who.participant) {
        (Role::Participant, Some((role, id))) => {
            let [a, b] = participant_data(*role, id);
            page(StatusCode::OK, "participant", &format!("{id} · {name}"), &[(a.0, &a.1), (b.0, &b.1)])
        }
        _ => page(StatusCode::OK, "operator", &name, &[("role", crate::app::role_name(who.role))]),
    }
}

async fn participant_page(who: Result<Principal, Problem>, Path((role, id)): Path<(String, String)>) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(p) => return refused(p),
    };
    let Some(role) = [PRole::Merchant, PRole::Anchor, PRole::Provider].into_iter().find(|r| r.as_str() == role) else {
        return refused(Problem::not_found(format!("`{role}` is not a role; roles are merchant, anchor, provider")));
    };
    if let Err(p) = who.require_owner(role, &id) {
        return refused(p);
    }
    let [a, b] = participant_data(role, &id);
    page(StatusCode::OK, "participant", &id, &[(a.0, &a.1), (b.0, &b.1)])
}

async fn board_page(who: Result<Principal, Problem>, Path(race): Path<String>) -> Response {
    match who {
        Ok(_) => page(StatusCode::OK, "board", &race, &[("race", &race)]),
        Err(p) => refused(p),
    }
}

async fn session_page(State(app): State<Shared>, who: Result<Principal, Problem>, Path(s): Path<String>) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(p) => return refused(p),
    };
    let id = s.clone();
    let anchor = app.read(0, move |e| e.state().session(&id).map(|x| e.state().anchor_ids.name(x.anchor).to_string()));
    match anchor.await {
        Ok((Some(a), _)) if who.may_see(PRole::Anchor, &a) => page(StatusCode::OK, "review", &s, &[("session", &s)]),
        Ok((Some(a), _)) => refused(who.require_owner(PRole::Anchor, &a).expect_err("not the owner")),
        Ok((None, _)) => refused(Problem::not_found(format!("no session `{s}`"))),
        Err(p) => refused(p),
    }
}

async fn ledger_page(who: Result<Principal, Problem>) -> Response {
    match who {
        Ok(_) => page(StatusCode::OK, "ledger", "Ledger 台账", &[]),
        Err(p) => refused(p),
    }
}

/// The interactive API page: open to everyone, as `/openapi.json` is; its requests carry
/// the token typed into it, never the cookie.
async fn api_page() -> Response {
    page(StatusCode::OK, "api", "API 接口", &[])
}

#[derive(Debug, Deserialize)]
struct Login {
    token: Option<String>,
}

/// Sets the token as the console's cookie and redirects to `/`; an unknown token is
/// refused with the sign-in page and sets nothing.
async fn login(State(app): State<Shared>, Query(q): Query<Login>) -> Response {
    let token = q.token.unwrap_or_default();
    let check = || app.tokens.read().expect("tokens").check(token.trim(), crate::tokens::now_s()).is_some();
    let mut known = check();
    if crate::tokens::reload(&app, !known).await {
        known = check();
    }
    if !known {
        return refused(Problem::new(
            StatusCode::UNAUTHORIZED,
            crate::problem::codes::UNAUTHORIZED,
            "the token is unknown, expired or revoked; open /login?token=TOKEN with a token from `dacu token create`",
        ));
    }
    // Tokens are URL-safe characters only; anything else never reaches here.
    let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict", token.trim());
    redirect_with_cookie(&cookie)
}

async fn logout() -> Response {
    redirect_with_cookie(&format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"))
}

fn redirect_with_cookie(cookie: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    h.insert(header::SET_COOKIE, HeaderValue::from_str(cookie).expect("a cookie of URL-safe characters"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ty, body)) => {
            let mut r = (*body).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            // The assets change only with the binary.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            r
        }
        None => Problem::not_found(format!("no asset `{file}`")).into_response(),
    }
}
