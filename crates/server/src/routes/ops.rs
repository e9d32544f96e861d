//! Operations: liveness, readiness, Prometheus metrics, the OpenAPI document.

use crate::app::Shared;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::atomic::Ordering;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is alive")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Recovered and accepting commands"), (status = 503, description = "Starting, stopping, or failed")))]
pub async fn readyz(State(app): State<Shared>) -> Response {
    if let Some(why) = app.node.poisoned() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("failed: {why}\n")).into_response();
    }
    if !app.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response();
    }
    let Some(c) = &app.cluster else { return (StatusCode::OK, "ready\n").into_response() };
    let leader = c.leader().unwrap_or_else(|| "no leader yet".into());
    let text = match (app.node.role(), c.replica) {
        (dacu_node::Role::Leader, _) => "ready: leader\n".to_string(),
        (_, true) => format!("ready: replica of {leader}, {} events behind\n", app.node.lag_events()),
        (_, false) => format!("ready: follower of {leader}, {} events behind\n", app.node.lag_events()),
    };
    (StatusCode::OK, text).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(app): State<Shared>) -> Response {
    metrics::gauge!("dacu_writer_queue_requests").set(app.node.queued() as f64);
    metrics::gauge!("dacu_durable_seq").set(app.node.durable_seq() as f64);
    metrics::gauge!("dacu_read_view_seq").set(app.node.applied_seq() as f64);
    if app.cluster.is_some() {
        let leads = app.node.role() == dacu_node::Role::Leader;
        metrics::gauge!("dacu_leader").set(if leads { 1.0 } else { 0.0 });
        metrics::gauge!("dacu_replica_lag_events").set(app.node.lag_events() as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This API's OpenAPI 3.1 document")))]
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}
