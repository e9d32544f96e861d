//! The node's clock: the only place in dacu that reads the time. It stamps `at` on
//! commands that come without one and decides when timers are due; the core only ever
//! sees the times recorded in commands.

use dacu_core::Ts;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// The time now.
    fn now(&self) -> Ts;
    /// How long, in real time, until the clock reads `t` (zero if it already has): when to
    /// wake for a timer due at `t`.
    fn until(&self, t: Ts) -> Duration;
}

/// The system's wall clock, in milliseconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Ts {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64);
        Ts(ms)
    }

    fn until(&self, t: Ts) -> Duration {
        Duration::from_millis(t.0.saturating_sub(self.now().0).max(0) as u64)
    }
}

/// A clock that moves only when told to: for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(t: Ts) -> ManualClock {
        ManualClock(AtomicI64::new(t.0))
    }

    pub fn set(&self, t: Ts) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Ts {
        Ts(self.0.load(Ordering::SeqCst))
    }

    /// It cannot know when it will be moved: the writer looks again shortly.
    fn until(&self, t: Ts) -> Duration {
        if self.now() >= t {
            Duration::ZERO
        } else {
            Duration::from_millis(5)
        }
    }
}
