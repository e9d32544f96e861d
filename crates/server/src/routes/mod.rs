//! The routes, and the layers every request passes: a request id, metrics, the body
//! limit, the timeout, the concurrency limit, and errors of any origin as problems.

pub mod commands;
pub mod ops;
pub mod reads;
pub mod resources;
pub mod tokens;

use crate::app::Shared;
use crate::problem::{codes, Problem};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub fn router(app: Shared) -> Router {
    let limits = &app.cfg.limits;
    let api = Router::new()
        .route("/v1/commands", post(commands::post))
        .route("/v1/quote", post(resources::quote))
        .route("/v1/festival", get(reads::festival))
        .route("/v1/merchants/{merchant}", get(reads::merchant))
        .route("/v1/anchors/{anchor}", get(reads::anchor))
        .route("/v1/providers/{provider}", get(reads::provider))
        .route("/v1/sessions/{session}", get(reads::session))
        .route("/v1/sessions/{session}/review", get(reads::review))
        .route("/v1/sessions/{session}/viewers", post(resources::enter_room))
        .route("/v1/sessions/{session}/viewers/{user}", delete(resources::leave_room))
        .route("/v1/sessions/{session}/interactions", post(resources::interact))
        .route("/v1/days/{day}", get(reads::day))
        .route("/v1/wallets/{user}", get(reads::wallet))
        .route("/v1/coupons/{coupon}", get(reads::coupon))
        .route("/v1/coupons/{coupon}/claims", post(resources::claim_coupon))
        .route("/v1/red-packets/{packet}", get(reads::red_packet))
        .route("/v1/red-packets/{packet}/grabs", post(resources::grab_red_packet))
        .route("/v1/groups", post(resources::open_group))
        .route("/v1/groups/{group}", get(reads::group))
        .route("/v1/groups/{group}/members", post(resources::join_group))
        .route("/v1/lotteries/{lottery}", get(reads::lottery))
        .route("/v1/impressions", post(resources::impression))
        .route("/v1/contracts/{contract}", get(reads::contract))
        .route("/v1/checkouts", post(resources::checkout))
        .route("/v1/checkouts/{checkout}", get(reads::checkout))
        .route("/v1/checkouts/{checkout}/pay", post(resources::pay))
        .route("/v1/checkouts/{checkout}/cancel", post(resources::cancel))
        .route("/v1/orders", post(resources::order))
        .route("/v1/refunds", post(resources::refund))
        .route("/v1/settle", post(resources::settle))
        .route("/v1/registration", post(resources::set_registration_all))
        .route("/v1/programs/{program}/registration", post(resources::set_registration))
        .route("/v1/boards/{race}", get(reads::board))
        .route("/v1/progress/{participant}", get(reads::progress))
        .route("/v1/budgets", get(reads::budgets))
        .route("/v1/payouts/{payout}", get(reads::payout))
        .route("/v1/report", get(reads::report))
        .route("/v1/ledger", get(reads::ledger))
        .route("/v1/events", get(crate::push::events))
        .route("/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/v1/tokens/{id}", delete(tokens::revoke))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi));
    api.merge(crate::console::routes())
        .fallback(|| async { Problem::not_found("no such endpoint; see /openapi.json") })
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(tower::limit::ConcurrencyLimitLayer::new(limits.connections))
        .layer(axum::middleware::from_fn_with_state(app.clone(), around))
        .with_state(app)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Gives each request an id (`X-Request-Id`, in the logs and in error bodies), records its
/// metrics, and turns any error response that is not a problem document into one.
async fn around(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let target = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let id = format!("{:x}-{:x}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |m| m.as_str());
    let method = method_label(req.method());
    let t0 = Instant::now();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let res = {
        let _e = span.enter();
        next.run(req)
    }
    .await;
    let status = res.status();
    // The console's pages answer errors as pages; everything else as problem documents.
    let page = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let mut res = if (status.is_client_error() || status.is_server_error()) && !page {
        problem_body(res, &id).await
    } else {
        res
    };
    res.headers_mut().insert("x-request-id", HeaderValue::from_str(&id).expect("ascii id"));
    position_headers(&app, &mut res, &target);
    let elapsed = t0.elapsed().as_secs_f64();
    let (count, duration) = request_metrics(route, method, status.as_u16());
    count.increment(1);
    duration.record(elapsed);
    tracing::info!(id = %id, method = %method, route = %route, status = status.as_u16(), elapsed_ms = elapsed * 1000.0, "served");
    res
}

/// Where the answer stands: `Dacu-Position`, the read view's last event; on a stream
/// node `Dacu-Lag`, the events it is behind the end of the stream. A write that reached a
/// follower is redirected to the same path on the leader.
fn position_headers(app: &Shared, res: &mut Response, target: &str) {
    let Some(c) = &app.cluster else {
        res.headers_mut().insert("dacu-position", HeaderValue::from(app.node.applied_seq()));
        return;
    };
    if res.status() == StatusCode::TEMPORARY_REDIRECT && !res.headers().contains_key(header::LOCATION) {
        let at = c.leader().map(|l| HeaderValue::from_str(&format!("{}{target}", l.trim_end_matches('/'))));
        match at {
            Some(Ok(v)) => drop(res.headers_mut().insert(header::LOCATION, v)),
            // The leader was lost between the refusal and now.
            _ => *res = crate::app::no_leader().into_response(),
        }
    }
    let h = res.headers_mut();
    h.insert("dacu-position", HeaderValue::from(app.node.applied_seq()));
    h.insert("dacu-lag", HeaderValue::from(app.node.lag_events()));
}

/// Per (method, status), per route: the request counter and the duration histogram.
type MetricHandles = HashMap<(&'static str, u16), HashMap<String, (metrics::Counter, metrics::Histogram)>>;

/// A method as a metric label: the standard ones by name, any other as `other`, so that a
/// client cannot grow the metrics without bound (routes are the router's templates,
/// statuses are three digits).
fn method_label(m: &Method) -> &'static str {
    [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::HEAD, Method::OPTIONS, Method::PATCH]
        .into_iter()
        .zip(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
        .find_map(|(x, name)| (x == m).then_some(name))
        .unwrap_or("other")
}

/// The request metrics of one route, method and status, registered on first use: a
/// request then only increments handles, where building the labelled keys each time
/// (three strings and a registry lookup) was a measurable share of a coupon claim.
fn request_metrics(route: &str, method: &'static str, status: u16) -> (metrics::Counter, metrics::Histogram) {
    static HANDLES: Mutex<Option<MetricHandles>> = Mutex::new(None);
    let mut all = HANDLES.lock().expect("metric handles");
    let by_route = all.get_or_insert_with(HashMap::new).entry((method, status)).or_default();
    if let Some(h) = by_route.get(route) {
        return h.clone();
    }
    let r = route.to_string();
    let labels = [("route", r.clone()), ("method", method.to_string()), ("status", status.to_string())];
    let h = (
        metrics::counter!("dacu_http_requests_total", &labels),
        metrics::histogram!("dacu_http_request_duration_seconds", "route" => r.clone(), "method" => method),
    );
    by_route.insert(r, h.clone());
    h
}

/// An error response as a problem document carrying the request id.
async fn problem_body(res: Response, id: &str) -> Response {
    let (parts, body) = res.into_parts();
    let is_problem = parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut problem: serde_json::Value = if is_problem {
        serde_json::from_slice(&bytes).unwrap_or_default()
    } else {
        let detail = String::from_utf8_lossy(&bytes).trim().to_string();
        let code = match parts.status {
            StatusCode::PAYLOAD_TOO_LARGE => codes::TOO_LARGE,
            StatusCode::NOT_FOUND => codes::NOT_FOUND,
            StatusCode::REQUEST_TIMEOUT => codes::TIMEOUT,
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            s if s.is_server_error() => "internal",
            _ => codes::BAD_REQUEST,
        };
        let detail =
            if detail.is_empty() { parts.status.canonical_reason().unwrap_or("error").to_string() } else { detail };
        serde_json::to_value(Problem::new(parts.status, code, detail)).expect("problems serialise")
    };
    problem["request_id"] = serde_json::Value::String(id.to_string());
    let mut res = Response::from_parts(parts, Body::from(problem.to_string()));
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    res.headers_mut().remove(header::CONTENT_LENGTH);
    res
}
