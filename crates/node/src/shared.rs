//! What the node's threads share: the durable and applied positions, the read view,
//! and whether the node has failed. Each position has a condition variable so that a
//! thread can wait for it to move.

use dacu_core::Engine;
use std::sync::{Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

/// A position that only moves forward, and the threads waiting for it.
#[derive(Default)]
pub(crate) struct Position {
    seq: Mutex<u64>,
    moved: Condvar,
}

impl Position {
    pub fn new(seq: u64) -> Position {
        Position { seq: Mutex::new(seq), moved: Condvar::new() }
    }

    pub fn get(&self) -> u64 {
        *self.seq.lock().expect("position lock")
    }

    pub fn set(&self, seq: u64) {
        let mut s = self.seq.lock().expect("position lock");
        if seq > *s {
            *s = seq;
        }
        drop(s);
        self.moved.notify_all();
    }

    /// Wakes the waiters without moving (to have them look at something else).
    pub fn nudge(&self) {
        self.moved.notify_all();
    }

    /// Waits until the position is at least `seq`, or `stop()` says to give up, or the
    /// deadline passes; returns the position.
    pub fn wait_for(&self, seq: u64, deadline: Option<Instant>, stop: impl Fn() -> bool) -> u64 {
        let mut s = self.seq.lock().expect("position lock");
        while *s < seq && !stop() {
            let wait = match deadline {
                None => Duration::from_millis(100),
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(w) if !w.is_zero() => w.min(Duration::from_millis(100)),
                    _ => break,
                },
            };
            s = self.moved.wait_timeout(s, wait).expect("position lock").0;
        }
        *s
    }
}

pub(crate) struct Shared {
    /// The last durable event.
    pub durable: Position,
    /// The last event the read view has applied.
    pub applied: Position,
    /// The read view: the follower engine, at `applied`.
    pub view: Option<RwLock<Engine>>,
    /// Why the node stopped accepting (a failed write), if it did.
    pub poisoned: Mutex<Option<String>>,
    /// Why the read view stopped, if it did.
    pub view_failed: Mutex<Option<String>>,
    /// Set at shutdown: the read view catches up and stops.
    pub stopping: std::sync::atomic::AtomicBool,
    /// Whether the read view takes a final snapshot when it stops.
    pub final_snapshot: std::sync::atomic::AtomicBool,
    /// Whether this node writes the log. A stream node that follows is not (its read
    /// view reads the stream to its end); one whose writer failed stops leading.
    pub leading: std::sync::atomic::AtomicBool,
    /// A takeover asked of the read view (Node::take_over).
    pub promote: Mutex<Option<crate::follower::Promote>>,
    /// A follower's distance from the end of the stream, in events (0 for a leader).
    pub lag_events: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// At durable position `durable`, the view (if any) there too.
    pub fn new(durable: u64, view: Option<RwLock<Engine>>, leading: bool) -> Shared {
        Shared {
            durable: Position::new(durable),
            applied: Position::new(durable),
            view,
            poisoned: Mutex::new(None),
            view_failed: Mutex::new(None),
            stopping: false.into(),
            final_snapshot: true.into(),
            leading: leading.into(),
            promote: Mutex::new(None),
            lag_events: 0.into(),
        }
    }

    pub fn poisoned(&self) -> Option<String> {
        self.poisoned.lock().expect("poison lock").clone()
    }

    pub fn poison(&self, why: String) {
        self.poisoned.lock().expect("poison lock").get_or_insert(why);
        self.durable.nudge();
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn leading(&self) -> bool {
        self.leading.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn final_snapshot(&self) -> bool {
        self.final_snapshot.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Runs a node thread; a panic in it is fatal to the process: an engine that panicked
/// mid-command may hold a half-applied state and must never serve again.
pub(crate) fn fatal_on_panic<T>(what: &'static str, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(t) => t,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let text = format!(
                "dacu: fatal: the {what} thread panicked ({msg}); nothing that was not acknowledged as durable is kept; exiting\n"
            );
            // Not through `eprintln!`: another thread may hold the stderr lock for good.
            use std::io::Write;
            match std::fs::OpenOptions::new().append(true).open("/dev/stderr") {
                Ok(mut f) => drop(f.write_all(text.as_bytes())),
                Err(_) => eprint!("{text}"),
            }
            #[allow(clippy::exit, reason = "a panicked engine must never serve again: the process ends here")]
            std::process::exit(crate::FATAL_EXIT);
        }
    }
}
