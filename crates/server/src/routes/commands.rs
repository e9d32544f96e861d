//! `POST /v1/commands`: every command the engine knows, exactly as `dacu ingest` reads
//! it — one object, a JSON array of them, or NDJSON — answered after the commit.

use crate::app::{CommandResult, Shared};
use crate::idempotency::Guard;
use crate::problem::{codes, Problem};
use crate::tokens::{Principal, Role};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use dacu_core::{Code, Command, Rejection};
use dacu_node::{KeyStatus, Keyed, Outcome, Stamp};
use serde::Serialize;
use serde_json::Value;

/// The registrations carry no time; every other command does, and one sent without `at`
/// is stamped with the service's clock.
const UNTIMED: &[&str] = &["register_merchant", "register_anchor", "register_provider"];

/// A placeholder the writer overwrites: commands sent without `at` parse with it.
const PLACEHOLDER_AT: &str = "1970-01-01T00:00:00Z";

/// The answer to a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    /// One result per command, in order.
    pub results: Vec<CommandResult>,
    /// Every event up to this log position is durable.
    pub durable_seq: u64,
    /// Present and true when the results are the ones recorded for the request's
    /// `Idempotency-Key`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replay: bool,
}

/// A command's text as it came, for the pointer of a problem: parsed to JSON only if the
/// command is rejected.
pub enum Body {
    Value(Value),
    Line(String),
}

impl Body {
    fn value(&self) -> Option<Value> {
        match self {
            Body::Value(v) => Some(v.clone()),
            Body::Line(l) => serde_json::from_str(l).ok(),
        }
    }
}

/// The commands of a body, each with its JSON (for pointers) and whether it is stamped.
pub struct Parsed {
    pub commands: Vec<Command>,
    pub bodies: Vec<Body>,
    pub stamp: Vec<bool>,
    /// Lines that did not parse: (index, problem).
    pub bad: Vec<(usize, Problem)>,
    /// A single object rather than a list.
    pub single: bool,
    /// Whether accepted results carry their events.
    pub events: bool,
}

/// `POST /v1/commands?events=false`: answer with positions only (a feed that does not
/// read the events back saves their rendering).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct CommandsQuery {
    /// Include each accepted command's events (default true).
    pub events: Option<bool>,
}

/// Parses one command object, filling in `at` for the writer to stamp when it is missing.
pub fn parse_command(mut v: Value) -> Result<(Command, Value, bool), (Value, Problem)> {
    let mut stamp = false;
    if let Value::Object(m) = &mut v {
        let timed = m.get("type").and_then(Value::as_str).is_some_and(|t| !UNTIMED.contains(&t));
        if timed && !m.contains_key("at") {
            m.insert("at".into(), Value::String(PLACEHOLDER_AT.into()));
            stamp = true;
        }
    }
    match dacu_core::parse_line(&type_first(&v)) {
        Ok(c) => Ok((c, v, stamp)),
        Err(r) => {
            let mut p = Problem::rejection(&r);
            p.pointer = crate::problem::pointer_in(&v, &r.message);
            Err((v, p))
        }
    }
}

/// The object's text with its `type` first, so that the command is parsed once, by its
/// type, rather than probed for the type and then parsed (the map's keys are sorted).
fn type_first(v: &Value) -> String {
    let Value::Object(m) = v else { return v.to_string() };
    let Some(ty @ Value::String(_)) = m.get("type") else { return v.to_string() };
    let mut text = format!("{{\"type\":{ty}");
    for (k, field) in m.iter().filter(|(k, _)| *k != "type") {
        text.push(',');
        text.push_str(&Value::String(k.clone()).to_string());
        text.push(':');
        text.push_str(&field.to_string());
    }
    text.push('}');
    text
}

fn parse_body(headers: &HeaderMap, body: &[u8], limit: usize) -> Result<Parsed, Problem> {
    let text = std::str::from_utf8(body).map_err(|e| Problem::bad_request(format!("the body is not UTF-8: {e}")))?;
    let ndjson = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-ndjson"));
    let trimmed = text.trim_start();
    if ndjson {
        return parse_lines(text, limit);
    }
    let (values, single): (Vec<Result<Value, String>>, bool) = if trimmed.starts_with('[') {
        let arr: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| Problem::bad_request(format!("the body is not a JSON array of commands: {e}")))?;
        (arr.into_iter().map(Ok).collect(), false)
    } else {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Problem::bad_request(format!("the body is not a JSON command object: {e}")))?;
        (vec![Ok(v)], true)
    };
    if values.len() > limit {
        return Err(too_many(values.len(), limit));
    }
    let mut p =
        Parsed { commands: Vec::new(), bodies: Vec::new(), stamp: Vec::new(), bad: Vec::new(), single, events: true };
    for (i, v) in values.into_iter().enumerate() {
        push_value(&mut p, i, v);
    }
    Ok(p)
}

fn too_many(n: usize, limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        codes::TOO_LARGE,
        format!("{n} commands in one request; at most {limit} (limits.batch_commands)"),
    )
}

/// NDJSON: each line parsed once, as `dacu ingest` parses it; only a line that does not
/// parse so (a missing `at` to stamp, or a bad line) goes through JSON values.
fn parse_lines(text: &str, limit: usize) -> Result<Parsed, Problem> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() > limit {
        return Err(too_many(lines.len(), limit));
    }
    let mut p = Parsed {
        commands: Vec::new(),
        bodies: Vec::new(),
        stamp: Vec::new(),
        bad: Vec::new(),
        single: false,
        events: true,
    };
    for (i, line) in lines.into_iter().enumerate() {
        if let Ok(c) = dacu_core::parse_line(line) {
            p.commands.push(c);
            p.bodies.push(Body::Line(line.to_string()));
            p.stamp.push(false);
            continue;
        }
        push_value(&mut p, i, serde_json::from_str(line).map_err(|e| e.to_string()));
    }
    Ok(p)
}

fn push_value(p: &mut Parsed, i: usize, v: Result<Value, String>) {
    match v {
        Err(e) => p.bad.push((i, Problem::rejection(&Rejection::new(Code::InvalidJson, e)))),
        Ok(v) => match parse_command(v) {
            Ok((c, v, s)) => {
                p.commands.push(c);
                p.bodies.push(Body::Value(v));
                p.stamp.push(s);
            }
            Err((_, prob)) => p.bad.push((i, prob)),
        },
    }
}

#[utoipa::path(post, path = "/v1/commands", tag = "commands",
    params(CommandsQuery,("Idempotency-Key" = Option<String>, Header, description = "The request's idempotency key (1 to 255 visible ASCII characters; docs/api.md, Idempotency)")),
    request_body(content = Object, description = "One command object (as `dacu ingest` reads a line), a JSON array of them, or NDJSON (`Content-Type: application/x-ndjson`)."),
    responses(
        (status = 200, description = "One command, accepted: its result; or a batch: one result per command", body = BatchResult),
        (status = 400, description = "A malformed body, or one command refused", body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem),
    ),
    security(("bearer" = [])))]
pub async fn post(
    State(app): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<CommandsQuery>,
    body: Bytes,
) -> Response {
    if let Err(p) = who.require(&[Role::Operator, Role::Integration]) {
        return p.into_response();
    }
    let mut parsed = match parse_body(&headers, &body, app.cfg.limits.batch_commands) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    parsed.events = q.events.unwrap_or(true);
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).map_or(&b""[..], |v| v.as_bytes());
    let key = match crate::idempotency::take(&app, &who, &headers, &[b"POST /v1/commands", content_type, &body]) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    run(&app, parsed, key).await
}

/// Executes parsed commands and answers: a single command as its result or its problem,
/// a batch as a list. With an idempotency key, the node answers a recorded key from its
/// record.
pub async fn run(app: &Shared, parsed: Parsed, key: Option<(Keyed, Guard)>) -> Response {
    let Parsed { bad, single, .. } = &parsed;
    if *single {
        if let Some((_, p)) = bad.first() {
            return p.clone().into_response();
        }
    }
    execute(app, parsed, key).await
}

async fn execute(app: &Shared, parsed: Parsed, key: Option<(Keyed, Guard)>) -> Response {
    let Parsed { commands, bodies, stamp, bad, single, events } = parsed;
    let bad = if single { Vec::new() } else { bad };
    let n = commands.len() + bad.len();
    // The guard keeps the key in flight until the answer is built.
    let (keyed, _guard) = key.unzip();
    let reply = match app.submit(commands, Stamp::Some(stamp), keyed.map(Box::new), events).await {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let replay = match reply.key {
        KeyStatus::Fresh => false,
        KeyStatus::Replay => true,
        KeyStatus::Mismatch => {
            let r = reply.outcomes.into_iter().find_map(|o| match o {
                Outcome::Rejected(r) => Some(r),
                Outcome::Accepted { .. } => None,
            });
            let r =
                r.unwrap_or_else(|| Rejection::new(Code::IdempotencyKeyReused, "the key was used for another request"));
            return Problem::rejection(&r).into_response();
        }
    };
    let mut outcomes = reply.outcomes.into_iter().zip(bodies);
    let mut bad = bad.into_iter().peekable();
    let mut results = Vec::with_capacity(n);
    for i in 0..n {
        if bad.peek().is_some_and(|(j, _)| *j == i) {
            let (_, p) = bad.next().expect("peeked");
            results.push(CommandResult {
                status: "rejected",
                first_seq: None,
                last_seq: None,
                events: None,
                problem: Some(p),
                replay,
            });
            continue;
        }
        let (o, body) = outcomes.next().expect("one outcome per command");
        let prefix = if single { String::new() } else { format!("/{i}") };
        let body = if o.is_accepted() { None } else { body.value() };
        let mut r = CommandResult::of(o, body.as_ref(), &prefix);
        if replay {
            r.replay = true;
        }
        if replay || !events {
            r.events = None;
        }
        results.push(r);
    }
    let mut res = if single {
        let r = results.pop().expect("one result");
        match r.problem {
            Some(p) => p.into_response(),
            None => (StatusCode::OK, Json(r)).into_response(),
        }
    } else {
        (StatusCode::OK, Json(BatchResult { results, durable_seq: reply.durable_seq, replay })).into_response()
    };
    if replay {
        res.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    res
}
