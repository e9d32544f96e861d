//! Reads: everything `dacu show`, `leaderboard`, `progress`, `review`, `explain` and
//! `report` show, from the read view. `?at_least=P` waits until the view holds position
//! P (a caller passes its write's `last_seq` to read its own write). The position read at
//! is sent back as `X-Dacu-Position`.

use crate::app::Shared;
use crate::problem::Problem;
use crate::tokens::{Principal, Role};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use dacu_core::contest::view::Page;
use dacu_core::festival::Role as PRole;
use dacu_core::market::view as market;
use dacu_core::{view, Day, Engine};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct At {
    /// Wait until the read view holds this log position (a write's `last_seq`).
    pub at_least: Option<u64>,
}

const EVERYONE: &[Role] = &[Role::Operator, Role::Integration, Role::Participant];
const STAFF: &[Role] = &[Role::Operator, Role::Integration];

/// Answers with `f`'s JSON, or 404 with `missing` when it finds nothing.
async fn json_of(
    app: &Shared,
    at: &At,
    missing: String,
    f: impl FnOnce(&Engine) -> Option<Value> + Send + 'static,
) -> Response {
    match app.read(at.at_least.unwrap_or(0), f).await {
        Ok((Some(v), pos)) => with_position(Json(v).into_response(), pos),
        Ok((None, _)) => Problem::not_found(missing).into_response(),
        Err(p) => p.into_response(),
    }
}

fn with_position(mut r: Response, pos: u64) -> Response {
    r.headers_mut().insert("x-dacu-position", HeaderValue::from(pos));
    r
}

macro_rules! entity {
    ($name:ident, $path:literal, $param:literal, $what:literal, $role:expr, $f:expr) => {
        #[utoipa::path(get, path = $path, tag = "reads", params(($param = String, Path), At),
            responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(State(app): State<Shared>, who: Principal, Path(id): Path<String>, Query(at): Query<At>) -> Response {
            let role: Option<PRole> = $role;
            let allowed = match role {
                Some(r) => who.require_owner(r, &id),
                None => who.require(STAFF),
            };
            if let Err(p) = allowed {
                return p.into_response();
            }
            let key = id.clone();
            json_of(&app, &at, format!("no {} `{id}`", $what), move |e| {
                let (f, st) = (e.festival(), e.state());
                #[allow(clippy::redundant_closure_call, reason = "the macro takes the lookup as a closure")]
                ($f)(f, st, key.as_str())
            })
            .await
        }
    };
}

fn to_json<T: serde::Serialize>(v: Option<T>) -> Option<Value> {
    v.map(|x| serde_json::to_value(x).expect("views serialise"))
}

entity!(merchant, "/v1/merchants/{merchant}", "merchant", "merchant", Some(PRole::Merchant), |f, st, id| to_json(
    view::merchant(f, st, id)
));
entity!(anchor, "/v1/anchors/{anchor}", "anchor", "anchor", Some(PRole::Anchor), |f, st, id| to_json(view::anchor(
    f, st, id
)));
entity!(provider, "/v1/providers/{provider}", "provider", "provider", Some(PRole::Provider), |f, st, id| to_json(
    view::provider(f, st, id)
));
entity!(wallet, "/v1/wallets/{user}", "user", "user", None, |_f, st, id| market::wallet(st, id));
entity!(coupon, "/v1/coupons/{coupon}", "coupon", "coupon", None, |_f, st, id| market::coupon(st, id));
entity!(red_packet, "/v1/red-packets/{packet}", "packet", "red packet", None, |_f, st, id| market::packet(st, id));
entity!(group, "/v1/groups/{group}", "group", "group", None, |_f, st, id| market::group(st, id));
entity!(lottery, "/v1/lotteries/{lottery}", "lottery", "lottery", None, |_f, st, id| market::lottery(st, id));
entity!(checkout, "/v1/checkouts/{checkout}", "checkout", "checkout", None, |_f, st, id| market::checkout(st, id));
entity!(contract, "/v1/contracts/{contract}", "contract", "traffic contract", None, |f, st, id| to_json(
    dacu_core::traffic::view::contract(f, st, id)
));

/// The anchor of a session, to tell whether a participant token may see it.
fn session_anchor(e: &Engine, id: &str) -> Option<String> {
    let st = e.state();
    st.session(id).map(|s| st.anchor_ids.name(s.anchor).to_string())
}

/// A session, or its review: staff, or the session's own anchor.
async fn session_read(app: &Shared, who: &Principal, id: String, at: At, review_top: Option<usize>) -> Response {
    if who.role == Role::Participant {
        let key = id.clone();
        let owner = match app.read(at.at_least.unwrap_or(0), move |e| session_anchor(e, &key)).await {
            Ok((o, _)) => o,
            Err(p) => return p.into_response(),
        };
        match owner {
            Some(a) if who.may_see(PRole::Anchor, &a) => {}
            Some(_) => return Problem::forbidden("a participant token sees only its own sessions").into_response(),
            None => return Problem::not_found(format!("no session `{id}`")).into_response(),
        }
    }
    let key = id.clone();
    json_of(app, &at, format!("no session `{id}`"), move |e| match review_top {
        Some(top) => to_json(dacu_core::review::review(e.state(), &key, top)),
        None => to_json(view::session(e.festival(), e.state(), &key)),
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{session}", tag = "reads", params(("session" = String, Path), At),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn session(
    State(app): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
    Query(at): Query<At>,
) -> Response {
    session_read(&app, &who, id, at, None).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    pub at_least: Option<u64>,
    /// Products to list, best-selling first (default 10).
    pub top: Option<usize>,
}

#[utoipa::path(get, path = "/v1/sessions/{session}/review", tag = "reads", params(("session" = String, Path), ReviewQuery),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn review(
    State(app): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let top = q.top.unwrap_or(dacu_core::review::TOP_PRODUCTS).min(1000);
    session_read(&app, &who, id, At { at_least: q.at_least }, Some(top)).await
}

#[utoipa::path(get, path = "/v1/days/{day}", tag = "reads", params(("day" = String, Path, description = "YYYY-MM-DD"), At),
    responses((status = 200, body = Object), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn day(State(app): State<Shared>, who: Principal, Path(day): Path<String>, Query(at): Query<At>) -> Response {
    if let Err(p) = who.require(STAFF) {
        return p.into_response();
    }
    let Some(d) = Day::parse(&day) else {
        return Problem::bad_request(format!("`{day}` is not a date; give YYYY-MM-DD")).at("/day").into_response();
    };
    json_of(&app, &at, String::new(), move |e| to_json(Some(view::day(e.state(), d)))).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    pub at_least: Option<u64>,
    /// Ranks from the top (default 20; with `around`, how many either side, default 5).
    pub top: Option<usize>,
    /// The entrants around this one.
    pub around: Option<String>,
    /// Only these entrants, comma-separated, in rank order.
    pub owners: Option<String>,
    /// The page after this cursor (`next_cursor` of the previous page).
    pub after: Option<String>,
    /// The day of a daily board, YYYY-MM-DD (default: the latest).
    pub day: Option<String>,
    /// The category of a board by category.
    pub group: Option<String>,
}

/// The most rows one page returns.
pub const MAX_PAGE_ROWS: usize = 1000;

#[utoipa::path(get, path = "/v1/boards/{race}", tag = "reads", params(("race" = String, Path), BoardQuery),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn board(
    State(app): State<Shared>,
    who: Principal,
    Path(race): Path<String>,
    Query(q): Query<BoardQuery>,
) -> Response {
    if let Err(p) = who.require(EVERYONE) {
        return p.into_response();
    }
    let day = match &q.day {
        Some(d) => match Day::parse(d) {
            Some(d) => Some(d),
            None => {
                return Problem::bad_request(format!("`{d}` is not a date; give YYYY-MM-DD")).at("/day").into_response()
            }
        },
        None => None,
    };
    let n = q.top.unwrap_or(20).min(MAX_PAGE_ROWS);
    let page = match (&q.around, &q.owners, &q.after) {
        (Some(id), None, None) => Page::Around(id.clone(), q.top.unwrap_or(5).min(MAX_PAGE_ROWS)),
        (None, Some(list), None) => {
            Page::Owners(list.split(',').map(|s| s.trim().to_string()).take(MAX_PAGE_ROWS).collect())
        }
        (None, None, Some(cur)) => Page::After(cur.clone(), n),
        (None, None, None) => Page::Top(n),
        _ => return Problem::bad_request("give at most one of around, owners and after").into_response(),
    };
    let at = q.at_least.unwrap_or(0);
    let r = app
        .read(at, move |e| {
            let (f, st) = (e.festival(), e.state());
            let c = &st.contests;
            let Some(ri) = c.race_index(&race) else {
                let ids: Vec<&str> = c.defs.iter().map(|d| d.id.as_str()).collect();
                return Err(Problem::not_found(format!(
                    "no contest or challenge `{race}`; the festival declares: {}",
                    ids.join(", ")
                )));
            };
            let key = c.find_board(ri, day, q.group.as_deref()).map_err(|e| Problem::not_found(e.to_string()))?;
            let p = c.page(f, st, ri, key, &page).map_err(|e| Problem::bad_request(e.to_string()))?;
            Ok(serde_json::to_value(p).expect("pages serialise"))
        })
        .await;
    match r {
        Ok((Ok(v), pos)) => with_position(Json(v).into_response(), pos),
        Ok((Err(p), _)) | Err(p) => p.into_response(),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProgressQuery {
    pub at_least: Option<u64>,
    /// `merchant`, `anchor` or `provider`, when the id is registered in several roles.
    pub role: Option<String>,
}

#[utoipa::path(get, path = "/v1/progress/{participant}", tag = "reads", params(("participant" = String, Path), ProgressQuery),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn progress(
    State(app): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ProgressQuery>,
) -> Response {
    let role = match q.role.as_deref() {
        Some(r) => match crate::tokens::participant_role(r) {
            Some(r) => Some(r),
            None => {
                return Problem::bad_request(format!("`role` is merchant, anchor or provider, got `{r}`"))
                    .at("/role")
                    .into_response()
            }
        },
        None => who.participant.as_ref().filter(|(_, p)| *p == id).map(|(r, _)| *r),
    };
    let key = id.clone();
    let found = app
        .read(q.at_least.unwrap_or(0), move |e| {
            let st = e.state();
            [PRole::Merchant, PRole::Anchor, PRole::Provider]
                .into_iter()
                .filter(|r| role.is_none_or(|x| x == *r))
                .filter_map(|r| dacu_core::contest::lookup(st, r, &key))
                .collect::<Vec<_>>()
        })
        .await;
    let pid = match found {
        Ok((f, _)) if f.len() == 1 => f[0],
        Ok((f, _)) if f.is_empty() => return Problem::not_found(format!("no participant `{id}`")).into_response(),
        Ok(_) => {
            return Problem::bad_request(format!("`{id}` is registered in several roles; give `role`")).into_response()
        }
        Err(p) => return p.into_response(),
    };
    if let Err(p) = who.require_owner(pid.0, &id) {
        return p.into_response();
    }
    json_of(&app, &At { at_least: q.at_least }, String::new(), move |e| {
        to_json(Some(e.state().contests.progress(e.festival(), e.state(), pid)))
    })
    .await
}

#[utoipa::path(get, path = "/v1/budgets", tag = "reads", params(At),
    responses((status = 200, description = "Each track's budget", body = Vec<Object>), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn budgets(State(app): State<Shared>, who: Principal, Query(at): Query<At>) -> Response {
    if let Err(p) = who.require(STAFF) {
        return p.into_response();
    }
    json_of(&app, &at, String::new(), |e| to_json(Some(dacu_core::settle::view::budgets(e.festival(), e.state()))))
        .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    pub at_least: Option<u64>,
    /// Contributing orders to list, the largest first (default 20, at most 1000).
    pub orders: Option<usize>,
}

#[utoipa::path(get, path = "/v1/payouts/{payout}", tag = "reads", params(("payout" = String, Path, description = "RACE[@DAY][#GROUP]:PARTICIPANT"), ExplainQuery),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn payout(
    State(app): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let orders = q.orders.unwrap_or(20).min(1000);
    let key = id.clone();
    let r = app
        .read(q.at_least.unwrap_or(0), move |e| dacu_core::settle::view::explain(e.festival(), e.state(), &key, orders))
        .await;
    match r {
        Ok((Some(x), pos)) => {
            let owner = x.participant.clone();
            let role = x.role;
            if let Err(p) = who.require_owner(role, &owner) {
                return p.into_response();
            }
            with_position(Json(x).into_response(), pos)
        }
        Ok((None, _)) => Problem::not_found(format!("no payout `{id}`")).into_response(),
        Err(p) => p.into_response(),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub at_least: Option<u64>,
    /// `json` (the default) or `html`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/v1/report", tag = "reads", params(ReportQuery),
    responses((status = 200, description = "`dacu report --json` at this log position, or the HTML page", body = Object), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn report(State(app): State<Shared>, who: Principal, Query(q): Query<ReportQuery>) -> Response {
    if let Err(p) = who.require(STAFF) {
        return p.into_response();
    }
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Problem::bad_request(format!("`format` is json or html, got `{other}`"))
                .at("/format")
                .into_response()
        }
    };
    let opts = app.report.clone();
    let r = app.read(q.at_least.unwrap_or(0), move |e| view::report_with(e.festival(), e.state(), &opts)).await;
    match r {
        Ok((r, pos)) if html => with_position(Html(dacu_core::html::render(&app.festival, &r)).into_response(), pos),
        Ok((r, pos)) => with_position(Json(r).into_response(), pos),
        Err(p) => p.into_response(),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    pub at_least: Option<u64>,
    /// One settlement's lines (numbered from 1).
    pub settlement: Option<u32>,
    /// Only this participant's lines, as `ROLE:ID` (`merchant:m1`). A participant token
    /// always gets its own lines only.
    pub participant: Option<String>,
}

#[utoipa::path(get, path = "/v1/ledger", tag = "reads", params(LedgerQuery),
    responses((status = 200, description = "`dacu ledger --json`: the settlements, the budgets and the lines asked for, each with its number in the whole ledger", body = Object),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn ledger(State(app): State<Shared>, who: Principal, Query(q): Query<LedgerQuery>) -> Response {
    let asked = match q.participant.as_deref().map(parse_participant).transpose() {
        Ok(a) => a,
        Err(p) => return p.into_response(),
    };
    let whose = match (&who.participant, asked) {
        (Some((r, id)), Some((ar, aid))) if (*r, id.as_str()) != (ar, aid.as_str()) => {
            return who.require_owner(ar, &aid).expect_err("not the owner").into_response()
        }
        (Some((r, id)), _) => Some((*r, id.clone())),
        (None, asked) => asked,
    };
    let settlement = q.settlement;
    let r = app
        .read(q.at_least.unwrap_or(0), move |e| {
            let sel = dacu_core::settle::ledger::Select {
                settlement,
                participant: whose.as_ref().map(|(r, id)| (*r, id.as_str())),
            };
            dacu_core::settle::ledger::ledger(e.festival(), e.state(), sel)
                .map(|l| serde_json::to_value(l).expect("the ledger serialises"))
        })
        .await;
    match r {
        Ok((Ok(v), pos)) => with_position(Json(v).into_response(), pos),
        Ok((Err(why), _)) => Problem::not_found(why).at("/settlement").into_response(),
        Err(p) => p.into_response(),
    }
}

/// `ROLE:ID` as a participant.
fn parse_participant(s: &str) -> Result<(PRole, String), Problem> {
    let bad = || {
        Problem::bad_request(format!("`participant` is ROLE:ID with ROLE merchant, anchor or provider, got `{s}`"))
            .at("/participant")
    };
    let (role, id) = s.split_once(':').ok_or_else(bad)?;
    let role =
        [PRole::Merchant, PRole::Anchor, PRole::Provider].into_iter().find(|r| r.as_str() == role).ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((role, id.to_string()))
}

#[utoipa::path(get, path = "/v1/festival", tag = "reads",
    responses((status = 200, description = "The festival: names, phases, programs, contests and challenges (the normalised festival file)", body = Object)),
    security(("bearer" = [])))]
pub async fn festival(State(app): State<Shared>, who: Principal) -> Response {
    if let Err(p) = who.require(EVERYONE) {
        return p.into_response();
    }
    (StatusCode::OK, Json(serde_json::to_value(&*app.festival).expect("the festival serialises"))).into_response()
}
