//! What every handler shares, and the two things that happen in one place for every
//! request: who it is from (the [`Principal`] extractor: token, expiry, rate limit) and
//! what it may touch (the [`Principal::require`] and [`Principal::may_see`] rules).

use crate::config::Config;
use crate::problem::{codes, Problem};
use crate::tokens::{Principal, Role, Tokens};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use dacu_core::festival::Role as PRole;
use dacu_core::{Engine, Festival};
use dacu_node::{Node, Outcome, Reply, Request, Stamp, SubmitError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

pub struct App {
    pub node: Arc<Node>,
    /// The service's clock (the node's): the default time of a quote.
    pub clock: Arc<dyn dacu_node::Clock>,
    pub data: PathBuf,
    pub cfg: Config,
    pub festival: Arc<Festival>,
    pub tokens: RwLock<Tokens>,
    /// Serialises this node's changes to the tokens.
    pub tokens_write: tokio::sync::Mutex<()>,
    /// A stream node's tokens bucket (the tokens are then the stream's, shared by every
    /// node: crate::tokens::change), and when this node last read it.
    pub token_bucket: Option<(dacu_jetstream::tokens::Bucket, Mutex<Option<Instant>>)>,
    pub limiter: Mutex<HashMap<String, Bucket>>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Set once the node is up and accepting; cleared when shutdown starts.
    pub ready: AtomicBool,
    pub push: crate::push::Hub,
    /// Idempotency keys of requests still running.
    pub in_flight: crate::idempotency::InFlight,
    /// The previous festival's figures (the year-on-year columns of the report and the
    /// console) and the reference month's.
    pub report: dacu_core::view::ReportOptions,
    /// A stream node's leadership (none for a node on its data directory's log).
    pub cluster: Option<Arc<crate::lead::Cluster>>,
}

pub type Shared = Arc<App>;

impl App {
    /// Festival milliseconds per real millisecond.
    pub fn clock_speed(&self) -> f64 {
        if self.cfg.clock.start == "system" {
            1.0
        } else {
            self.cfg.clock.speed
        }
    }

    /// What the console's views need beside the state.
    pub fn console_ctx(&self) -> crate::console::view::Ctx<'_> {
        crate::console::view::Ctx {
            now: self.clock.now(),
            speed: self.clock_speed(),
            queue_depth: self.node.queued(),
            queue_cap: self.cfg.limits.queue_requests,
            report: &self.report,
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl App {
    /// Takes one request from the token's bucket; the seconds to wait when it is empty.
    fn take(&self, token: &str) -> Result<(), u64> {
        let (rate, burst) = (self.cfg.limits.rate_per_token as f64, self.cfg.limits.rate_burst as f64);
        if rate == 0.0 {
            return Ok(());
        }
        let mut buckets = self.limiter.lock().expect("limiter");
        let now = Instant::now();
        let b = buckets.entry(token.to_string()).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// A write that reached a node that does not lead: a redirect to the leader (the
    /// routes' layer adds the `Location`), or 503 while no leader is known.
    fn not_leader(&self) -> Problem {
        match self.cluster.as_ref().and_then(|c| c.leader()) {
            Some(leader) => Problem::new(
                StatusCode::TEMPORARY_REDIRECT,
                codes::NOT_LEADER,
                format!("this node follows the stream; the leader is {leader}: send the request there"),
            ),
            None => no_leader(),
        }
    }

    /// Submits commands and waits for the durable reply.
    pub async fn submit(
        &self,
        commands: Vec<dacu_core::Command>,
        stamp: Stamp,
        key: Option<Box<dacu_node::Keyed>>,
        want_events: bool,
    ) -> Result<Reply, Problem> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let req = Request {
            commands,
            stamp,
            want_events,
            key,
            reply: Box::new(move |r| {
                let _ = tx.send(r);
            }),
        };
        let t0 = Instant::now();
        if let Err((e, _)) = self.node.try_submit(req) {
            metrics::counter!("dacu_submit_refused_total", "why" => refusal(&e)).increment(1);
            return Err(match e {
                SubmitError::Full { .. } => Problem::busy(e.to_string()),
                SubmitError::Stopped => {
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, codes::STOPPING, e.to_string()).retry_after(5)
                }
                SubmitError::TooLarge { .. } => {
                    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE, e.to_string())
                }
                SubmitError::NoClock => Problem::bad_request(e.to_string()),
                SubmitError::NotLeader => self.not_leader(),
            });
        }
        let reply = match tokio::time::timeout(self.cfg.request_timeout(), rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => return Err(Problem::new(StatusCode::SERVICE_UNAVAILABLE, codes::STOPPING, "the node stopped")),
            Err(_) => {
                return Err(Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::TIMEOUT,
                    "no durable reply within the request timeout; the commands may yet be applied: resend with the same Idempotency-Key to learn their outcome",
                )
                .retry_after(1))
            }
        };
        metrics::histogram!("dacu_commit_wait_seconds").record(t0.elapsed().as_secs_f64());
        Ok(reply)
    }

    /// As [`App::read`], but on the calling thread when the read view is ready and free
    /// at once: for reads of microseconds (a quote), where the hop to a blocking thread
    /// and back took longer than the read.
    pub async fn read_light<T: Send + 'static>(
        self: &Arc<Self>,
        at_least: u64,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<(T, u64), Problem> {
        if let Some(engine) = self.node.try_view(at_least) {
            let pos = engine.state().events;
            return Ok((f(&engine), pos));
        }
        self.read(at_least, f).await
    }

    /// Runs `f` on the read view at `at_least` or later, off the async threads.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        at_least: u64,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<(T, u64), Problem> {
        let durable = self.node.durable_seq();
        // A follower may be behind the leader that gave the position: it waits for it.
        if at_least > durable && self.node.role() == dacu_node::Role::Leader {
            return Err(Problem::bad_request(format!(
                "`at_least` {at_least} is past the end of the log (event {durable}): give a position a write returned"
            ))
            .at("/at_least"));
        }
        let app = self.clone();
        let wait = self.cfg.read_wait();
        tokio::task::spawn_blocking(move || {
            app.node.read(at_least, wait, |e| (f(e), e.state().events)).map_err(|e| match e {
                dacu_node::ReadError::NotYet { .. } => {
                    Problem::new(StatusCode::SERVICE_UNAVAILABLE, codes::NOT_YET, e.to_string()).retry_after(1)
                }
                other => Problem::new(StatusCode::SERVICE_UNAVAILABLE, codes::STOPPING, other.to_string()),
            })
        })
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
    }
}

/// A write while no node leads the stream.
pub fn no_leader() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::NO_LEADER,
        "no node leads the stream at the moment (a takeover takes up to `log.lease_ms`); retry shortly",
    )
    .retry_after(1)
}

fn refusal(e: &SubmitError) -> &'static str {
    match e {
        SubmitError::Full { .. } => "full",
        SubmitError::Stopped => "stopped",
        SubmitError::TooLarge { .. } => "too_large",
        SubmitError::NoClock => "no_clock",
        SubmitError::NotLeader => "not_leader",
    }
}

impl FromRequestParts<Shared> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Principal, Problem> {
        let unauthorized = |d: &str| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                format!("{d}; send `Authorization: Bearer TOKEN`"),
            )
        };
        let token = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or_else(|| unauthorized("the Authorization header is not `Bearer TOKEN`"))?,
            // The console's cookie, for reads only: a page can then be opened from a link
            // and follow the push stream, while no other site can make a browser write.
            None if matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD) => {
                crate::console::cookie_token(&parts.headers).ok_or_else(|| unauthorized("no token"))?
            }
            None => return Err(unauthorized("no token")),
        };
        let check = || app.tokens.read().expect("tokens").check(token.trim(), crate::tokens::now_s());
        let mut found = check();
        // A stream node's tokens are the stream's: one minted or revoked on another node
        // since this one last read them counts here too.
        if crate::tokens::reload(app, found.is_none()).await {
            found = check();
        }
        let p = found.ok_or_else(|| unauthorized("the token is unknown, expired or revoked"))?;
        if let Err(wait) = app.take(&p.token_id) {
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                format!(
                    "this token is over its {} requests per second (burst {}); retry in {wait} s",
                    app.cfg.limits.rate_per_token, app.cfg.limits.rate_burst
                ),
            )
            .retry_after(wait));
        }
        Ok(p)
    }
}

impl Principal {
    /// Refuses (403) a principal whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| role_name(*r)).collect();
        Err(Problem::forbidden(format!(
            "this needs a token of role {}; yours is {}",
            names.join(" or "),
            role_name(self.role)
        )))
    }

    /// Whether this principal may see what belongs to participant `(role, id)`: operators
    /// and integrations see everything; a participant only itself.
    pub fn may_see(&self, role: PRole, id: &str) -> bool {
        match self.role {
            Role::Operator | Role::Integration => true,
            Role::Participant => self.participant.as_ref().is_some_and(|(r, p)| *r == role && p == id),
        }
    }

    /// Refuses (403) a principal that may not see `(role, id)`'s own data.
    pub fn require_owner(&self, role: PRole, id: &str) -> Result<(), Problem> {
        if self.may_see(role, id) {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "a participant token sees only its own {} data; this is {} `{id}`'s",
            role.as_str(),
            role.as_str()
        )))
    }
}

pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Operator => "operator",
        Role::Integration => "integration",
        Role::Participant => "participant",
    }
}

/// The outcome of one command as the API answers it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CommandResult {
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// The first and last log positions of its events (accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// Its events (accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<dacu_core::Event>>,
    /// Why not (rejected): the problem, as for a single command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Present and true when the result is the one recorded for the request's
    /// `Idempotency-Key` (nothing ran again; `events` are left out: they are in the log
    /// at `first_seq..=last_seq`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replay: bool,
}

impl CommandResult {
    pub fn of(o: Outcome, body: Option<&serde_json::Value>, pointer_prefix: &str) -> CommandResult {
        match o {
            Outcome::Accepted { first_seq, last_seq, events } => CommandResult {
                status: "accepted",
                first_seq: Some(first_seq),
                last_seq: Some(last_seq),
                events: Some(events),
                problem: None,
                replay: false,
            },
            Outcome::Rejected(r) => {
                let mut p = Problem::rejection(&r);
                p.pointer = body
                    .and_then(|b| crate::problem::pointer_in(b, &r.message))
                    .map(|f| format!("{pointer_prefix}{f}"));
                CommandResult {
                    status: "rejected",
                    first_seq: None,
                    last_seq: None,
                    events: None,
                    problem: Some(p),
                    replay: false,
                }
            }
        }
    }
}
