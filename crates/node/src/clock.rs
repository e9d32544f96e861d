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

/// A festival clock for a rehearsal: it reads `start` when created and runs at `speed`
/// festival seconds per real second.
#[derive(Debug)]
pub struct ScaledClock {
    start: Ts,
    since: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    pub fn new(start: Ts, speed: f64) -> ScaledClock {
        ScaledClock { start, since: std::time::Instant::now(), speed: speed.max(f64::MIN_POSITIVE) }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Ts {
        let ms = self.since.elapsed().as_secs_f64() * 1000.0 * self.speed;
        Ts(self.start.0.saturating_add(ms.min(i64::MAX as f64) as i64))
    }

    fn until(&self, t: Ts) -> Duration {
        let festival_ms = t.0.saturating_sub(self.now().0).max(0) as f64;
        Duration::from_secs_f64(festival_ms / 1000.0 / self.speed)
    }
}
