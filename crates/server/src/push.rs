//! Live push over Server-Sent Events: `GET /v1/events?topics=…`.
//!
//! A topic is a view of the state: `totals` (the festival's headline figures), `board:RACE`
//! (the top of a board), `session:ID`, `budgets`, `red-packet:ID`, `progress:ID`, and the
//! console's two screens, `console` (operators) and `participant:ROLE:ID`. The hub
//! looks at the read view at most every `push.coalesce_ms`; when it has moved, it renders
//! each topic someone follows and sends those whose value changed, as one event each:
//! `event:` the topic, `id:` the log position the value was read at, `data:` its JSON.
//! Updates are so coalesced: a subscriber sees the latest value of each topic, never a
//! backlog. A subscriber's queue holds at most `push.client_queue` events; one that falls
//! further behind is disconnected (it reconnects with `Last-Event-ID`), never buffered
//! without limit. Reconnecting with `Last-Event-ID: P` sends each topic's value at once if
//! the state has moved past P, and nothing if it has not: nothing missed, nothing repeated.

use crate::app::Shared;
use crate::problem::Problem;
use crate::tokens::{Principal, Role};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use dacu_core::contest::view::Page;
use dacu_core::festival::Role as PRole;
use dacu_core::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// One event on its way to a subscriber.
#[derive(Debug, Clone)]
pub struct Update {
    pub topic: String,
    pub seq: u64,
    pub data: String,
}

struct Subscriber {
    topics: Vec<String>,
    /// Per topic, the position and a hash of the last value this subscriber has: a value is
    /// sent only at a later position, and only if it differs.
    seen: BTreeMap<String, (u64, u64)>,
    tx: mpsc::Sender<Update>,
}

/// The subscribers, and what each topic last looked like.
#[derive(Default)]
pub struct Hub {
    subs: Mutex<BTreeMap<u64, Subscriber>>,
    last: Mutex<BTreeMap<String, String>>,
    next_id: AtomicU64,
    seen_seq: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hub({} subscribers)", self.subs.lock().expect("subs").len())
    }
}

impl Hub {
    /// Ends every subscription (at shutdown).
    pub fn close_all(&self) {
        self.subs.lock().expect("subs").clear();
    }

    pub fn subscribers(&self) -> usize {
        self.subs.lock().expect("subs").len()
    }

    fn topics(&self) -> Vec<String> {
        let subs = self.subs.lock().expect("subs");
        let mut t: Vec<String> = subs.values().flat_map(|s| s.topics.iter().cloned()).collect();
        t.sort();
        t.dedup();
        t
    }

    /// Sends `u` to every subscriber of its topic; drops those that cannot keep up.
    fn publish(&self, u: &Update) {
        let mut subs = self.subs.lock().expect("subs");
        subs.retain(|_, s| {
            let hash = content_hash(&u.data);
            let stale = s.seen.get(&u.topic).is_some_and(|(p, h)| u.seq <= *p || *h == hash);
            if !s.topics.contains(&u.topic) || stale {
                return true;
            }
            match s.tx.try_send(u.clone()) {
                Ok(()) => {
                    s.seen.insert(u.topic.clone(), (u.seq, hash));
                    true
                }
                Err(_) => {
                    metrics::counter!("dacu_push_dropped_total").increment(1);
                    false
                }
            }
        });
        metrics::gauge!("dacu_push_subscribers").set(subs.len() as f64);
    }
}

fn content_hash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A topic's value in the state, or why the topic is not one.
fn render(topic: &str, e: &Engine, cx: &crate::console::view::Ctx<'_>) -> Option<Value> {
    let (f, st) = (e.festival(), e.state());
    let (kind, arg) = topic.split_once(':').unwrap_or((topic, ""));
    match kind {
        "console" => Some(crate::console::view::operator(e, cx)),
        "participant" => {
            let (role, id) = participant_topic(arg)?;
            crate::console::view::participant(e, role, id, cx.now)
        }
        "totals" => {
            let t = st.total.total();
            Some(json!({"events": st.events, "gross_fen": t.gross.0, "refunded_fen": t.refunded.0,
                        "gmv_fen": t.net().0, "orders": st.total.orders_total(), "buyers": st.total.buyers.len()}))
        }
        "board" => {
            let c = &st.contests;
            let ri = c.race_index(arg)?;
            let key = c.find_board(ri, None, None).ok()?;
            c.page(f, st, ri, key, &Page::Top(10)).ok().map(|p| serde_json::to_value(p).expect("pages serialise"))
        }
        "session" => dacu_core::view::session(f, st, arg).map(|s| serde_json::to_value(s).expect("views serialise")),
        "budgets" => Some(serde_json::to_value(dacu_core::settle::view::budgets(f, st)).expect("budgets serialise")),
        "red-packet" => dacu_core::market::view::packet(st, arg),
        "progress" => {
            let pid = [PRole::Merchant, PRole::Anchor, PRole::Provider]
                .into_iter()
                .find_map(|r| dacu_core::contest::lookup(st, r, arg))?;
            Some(serde_json::to_value(st.contests.progress(f, st, pid)).expect("progress serialises"))
        }
        _ => None,
    }
}

/// `ROLE:ID` of a `participant:ROLE:ID` topic.
fn participant_topic(arg: &str) -> Option<(PRole, &str)> {
    let (role, id) = arg.split_once(':')?;
    let role = [PRole::Merchant, PRole::Anchor, PRole::Provider].into_iter().find(|r| r.as_str() == role)?;
    Some((role, id))
}

/// Whether `who` may follow `topic`; the session topic's anchor is checked on subscribing.
fn allowed(who: &Principal, topic: &str, session_anchor: Option<&str>) -> Result<(), Problem> {
    let (kind, arg) = topic.split_once(':').unwrap_or((topic, ""));
    let staff = matches!(who.role, Role::Operator | Role::Integration);
    let ok = match kind {
        "board" => true,
        "totals" | "budgets" | "red-packet" | "console" => staff,
        "participant" => participant_topic(arg).is_some_and(|(r, id)| who.may_see(r, id)),
        "progress" => staff || who.participant.as_ref().is_some_and(|(_, p)| p == arg),
        "session" => staff || session_anchor.is_some_and(|a| who.may_see(PRole::Anchor, a)),
        _ => {
            return Err(Problem::bad_request(format!(
            "`{topic}` is not a topic; topics are totals, board:RACE, session:ID, budgets, red-packet:ID, progress:ID, console, participant:ROLE:ID"
        )))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Problem::forbidden(format!("this token may not follow `{topic}`")))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    /// Comma-separated: totals, board:RACE, session:ID, budgets, red-packet:ID, progress:ID,
    /// console, participant:ROLE:ID.
    pub topics: String,
}

/// Topics one subscription may follow at most.
pub const MAX_TOPICS: usize = 32;

#[utoipa::path(get, path = "/v1/events", tag = "push", params(Topics, ("Last-Event-ID" = Option<u64>, Header)),
    responses((status = 200, description = "text/event-stream: events named by topic, id = log position, data = JSON"),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn events(
    State(app): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    Query(q): Query<Topics>,
) -> Response {
    let topics: Vec<String> = q.topics.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    if topics.is_empty() || topics.len() > MAX_TOPICS {
        return Problem::bad_request(format!("give 1 to {MAX_TOPICS} topics")).into_response();
    }
    for t in &topics {
        let anchor = match t.strip_prefix("session:") {
            Some(s) => {
                let s = s.to_string();
                match app
                    .read(0, move |e| e.state().session(&s).map(|x| e.state().anchor_ids.name(x.anchor).to_string()))
                    .await
                {
                    Ok((a, _)) => a,
                    Err(p) => return p.into_response(),
                }
            }
            None => None,
        };
        if let Err(p) = allowed(&who, t, anchor.as_deref()) {
            return p.into_response();
        }
    }
    if app.push.subscribers() >= app.cfg.push.subscribers {
        return Problem::busy(format!("{} subscribers are connected, the most served", app.cfg.push.subscribers))
            .into_response();
    }
    let last_id: Option<u64> =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse().ok());
    let (tx, rx) = mpsc::channel(app.cfg.push.client_queue);
    // The current value of every topic first (unless the client already has it).
    let current = {
        let topics = topics.clone();
        let app2 = app.clone();
        app.read(0, move |e| {
            let cx = app2.console_ctx();
            topics.iter().map(|t| (t.clone(), render(t, e, &cx))).collect::<Vec<_>>()
        })
        .await
    };
    let (values, seq) = match current {
        Ok(x) => x,
        Err(p) => return p.into_response(),
    };
    let fresh = last_id.is_none_or(|p| seq > p);
    let mut seen = BTreeMap::new();
    for (t, v) in values {
        let data = v.unwrap_or(Value::Null).to_string();
        if fresh {
            seen.insert(t.clone(), (seq, content_hash(&data)));
            let _ = tx.try_send(Update { topic: t, seq, data });
        } else {
            // Nothing happened since the client's last event: it has these values, so only
            // later changes go out.
            seen.insert(t, (last_id.unwrap_or(0), content_hash(&data)));
        }
    }
    let id = app.push.next_id.fetch_add(1, Ordering::Relaxed);
    app.push.subs.lock().expect("subs").insert(id, Subscriber { topics, seen, tx });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let stream = tokio_stream::StreamExt::map(stream, |u: Update| {
        Ok::<_, std::convert::Infallible>(Event::default().event(u.topic).id(u.seq.to_string()).data(u.data))
    });
    (StatusCode::OK, Sse::new(stream).keep_alive(KeepAlive::default())).into_response()
}

/// The hub's loop: every `coalesce_ms`, if the read view moved, render and send.
pub async fn run(app: Shared) {
    let every = Duration::from_millis(app.cfg.push.coalesce_ms.max(1));
    loop {
        tokio::time::sleep(every).await;
        let seq = app.node.applied_seq();
        if seq == app.push.seen_seq.load(Ordering::Relaxed) || app.push.subscribers() == 0 {
            continue;
        }
        app.push.seen_seq.store(seq, Ordering::Relaxed);
        let topics = app.push.topics();
        app.push.last.lock().expect("last").retain(|t, _| topics.contains(t));
        let app2 = app.clone();
        let rendered = app
            .read(0, move |e| {
                let cx = app2.console_ctx();
                topics.iter().map(|t| (t.clone(), render(t, e, &cx))).collect::<Vec<_>>()
            })
            .await;
        let Ok((values, at)) = rendered else { continue };
        for (topic, v) in values {
            let data = v.unwrap_or(Value::Null).to_string();
            let changed = {
                let mut last = app.push.last.lock().expect("last");
                let changed = last.get(&topic) != Some(&data);
                if changed {
                    last.insert(topic.clone(), data.clone());
                }
                changed
            };
            if changed {
                app.push.publish(&Update { topic, seq: at, data });
            }
        }
    }
}
