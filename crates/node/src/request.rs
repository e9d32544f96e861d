//! What callers send the writer and what they get back.

use dacu_core::{Command, Event, Rejection};
use std::fmt;

/// What the writer decided for one command. A caller receives it only once the commit
/// that holds the command's events is durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted: its events are the log positions `first_seq..=last_seq` (none when
    /// `first_seq == last_seq + 1`: a repeat, recognised by its id, records nothing).
    /// `events` holds them when the request asked for them.
    Accepted { first_seq: u64, last_seq: u64, events: Vec<Event> },
    /// Rejected, with its stable code; nothing of it was applied.
    Rejected(Rejection),
}

impl Outcome {
    pub fn is_accepted(&self) -> bool {
        matches!(self, Outcome::Accepted { .. })
    }
}

/// The answer to one [`Request`].
#[derive(Debug, Clone)]
pub struct Reply {
    /// One outcome per command, in order.
    pub outcomes: Vec<Outcome>,
    /// Every event up to this position is durable.
    pub durable_seq: u64,
    /// For a keyed request: whether it ran now, was answered from its key's record, or
    /// was refused because the key was recorded for another request.
    pub key: KeyStatus,
}

/// What became of a request's idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyStatus {
    /// No key, or a key seen for the first time: the commands ran now.
    #[default]
    Fresh,
    /// The key was recorded for the same request: the outcomes are the recorded ones
    /// (accepted outcomes carry their positions, not their events), nothing ran again.
    Replay,
    /// The key was recorded for another request: every outcome is
    /// `idempotency_key_reused`, nothing ran.
    Mismatch,
}

/// An idempotency key on a request (docs/api.md, "Idempotency"). The writer looks it up
/// before anything runs; a fresh key's outcomes are recorded in the same commit as the
/// commands, so the key and its effects are durable together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    /// The key as recorded: the caller's scope and its key (1 to 512 bytes).
    pub key: String,
    /// Lowercase hex SHA-256 of the request (what makes "the same request").
    pub fingerprint: String,
    /// How long the record is kept, in milliseconds of the node's clock.
    pub window_ms: i64,
}

/// Called once with the request's reply, on the node's commit thread: it must be quick
/// (send the reply on a channel; do not block).
pub type ReplyFn = Box<dyn FnOnce(Reply) + Send>;

/// Which commands of a request get the node's time as their `at`: the clock's, never
/// earlier than the latest time recorded (for callers that send no time). Stamping needs a
/// node whose time is a clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Stamp {
    /// None: every command keeps the time it carries.
    #[default]
    None,
    /// Every command.
    All,
    /// The commands whose flag is set (one flag per command).
    Some(Vec<bool>),
}

impl Stamp {
    /// Whether command `i` is stamped.
    pub fn applies(&self, i: usize) -> bool {
        match self {
            Stamp::None => false,
            Stamp::All => true,
            Stamp::Some(v) => v.get(i).copied().unwrap_or(false),
        }
    }

    /// Whether any command is stamped.
    pub fn any(&self) -> bool {
        match self {
            Stamp::None => false,
            Stamp::All => true,
            Stamp::Some(v) => v.iter().any(|b| *b),
        }
    }
}

/// Commands to execute in order, as one unit: they go into one commit batch.
pub struct Request {
    pub commands: Vec<Command>,
    pub stamp: Stamp,
    /// Return each accepted command's events in its outcome.
    pub want_events: bool,
    /// An idempotency key, if the caller sent one.
    pub key: Option<Box<Keyed>>,
    pub reply: ReplyFn,
}

impl Request {
    /// A request whose reply is sent on the returned channel.
    pub fn with_channel(commands: Vec<Command>) -> (Request, crossbeam_channel::Receiver<Reply>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let req = Request {
            commands,
            stamp: Stamp::None,
            want_events: false,
            key: None,
            reply: Box::new(move |r| {
                let _ = tx.send(r);
            }),
        };
        (req, rx)
    }
}

/// Why a request was not taken. The request comes back with the error, unreplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: back off and retry (backpressure).
    Full { capacity: usize },
    /// The node is stopping or stopped.
    Stopped,
    /// More commands than one request may hold.
    TooLarge { commands: usize, limit: usize },
    /// `stamp` on a node that takes its times from the commands.
    NoClock,
    /// This node follows the stream another node writes (docs/scale-out.md, "Failover").
    NotLeader,
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Full { capacity } => {
                write!(f, "the writer's queue is full ({capacity} requests waiting); retry shortly")
            }
            SubmitError::Stopped => f.write_str("the node is stopping and takes no more commands"),
            SubmitError::TooLarge { commands, limit } => {
                write!(f, "a request of {commands} commands is over the limit of {limit}; split it")
            }
            SubmitError::NoClock => f.write_str("this node takes times from the commands and stamps none"),
            SubmitError::NotLeader => {
                f.write_str("this node follows the stream and does not write it; send writes to the leader")
            }
        }
    }
}

impl std::error::Error for SubmitError {}

/// Why a read could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The read view had not reached the position asked for within the wait.
    NotYet { applied: u64, wanted: u64 },
    /// The node runs without a read view.
    NoView,
    /// The read view stopped following the log (its error).
    Failed(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotYet { applied, wanted } => {
                write!(f, "the read view is at event {applied}, not yet at {wanted}; retry shortly")
            }
            ReadError::NoView => f.write_str("this node keeps no read view"),
            ReadError::Failed(why) => write!(f, "the read view stopped: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}
