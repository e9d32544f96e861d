//! The one-slot hand-over between the writer and the committer. The writer looks at the
//! slot once per batch (is the committer free?) and sleeps on it only when a batch is
//! ready and the committer is still busy; the committer sleeps on it between batches.
//! Neither side spins: on two cores a spinning waiter takes the time the thread it waits
//! for needs, and every wake-up is a system call.

use crate::writer::Work;
use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct Slot {
    work: Option<Work>,
    /// The committer holds a batch it has not finished (written, synced, answered).
    busy: bool,
    /// The writer has stopped: the committer ends once the slot is empty.
    closed: bool,
}

#[derive(Default)]
pub(crate) struct Handoff {
    slot: Mutex<Slot>,
    /// Signalled when a batch is put in the slot, or the slot is closed.
    given: Condvar,
    /// Signalled when the committer finishes a batch.
    freed: Condvar,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().expect("handoff lock")
    }

    /// Whether a batch given now would be taken at once.
    pub fn is_free(&self) -> bool {
        let s = self.lock();
        s.work.is_none() && !s.busy
    }

    /// Waits until the committer has finished everything it was given.
    pub fn wait_free(&self) {
        let mut s = self.lock();
        while s.work.is_some() || s.busy {
            s = self.freed.wait(s).expect("handoff lock");
        }
    }

    /// Gives the committer a batch; waits first if it is busy.
    pub fn give(&self, work: Work) {
        let mut s = self.lock();
        while s.work.is_some() || s.busy {
            s = self.freed.wait(s).expect("handoff lock");
        }
        s.work = Some(work);
        drop(s);
        self.given.notify_one();
    }

    /// The writer is done: the committer stops after the batch in the slot, if any.
    pub fn close(&self) {
        self.lock().closed = true;
        self.given.notify_one();
    }

    /// The committer's next batch; `None` once the slot is closed and empty.
    pub fn take(&self) -> Option<Work> {
        let mut s = self.lock();
        loop {
            if let Some(w) = s.work.take() {
                s.busy = true;
                return Some(w);
            }
            if s.closed {
                return None;
            }
            s = self.given.wait(s).expect("handoff lock");
        }
    }

    /// The committer has finished the batch it took.
    pub fn done(&self) {
        self.lock().busy = false;
        self.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn empty() -> Work {
        Work { batch: None, replies: Vec::new() }
    }

    /// Every batch given is taken exactly once, one at a time, and closing ends the
    /// committer only after the last one.
    #[test]
    fn each_batch_is_taken_once_and_close_ends_after_the_last() {
        let h = Arc::new(Handoff::default());
        let (taken, at_once) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let committer = {
            let (h, taken, at_once) = (h.clone(), taken.clone(), at_once.clone());
            std::thread::spawn(move || {
                while let Some(_w) = h.take() {
                    assert_eq!(at_once.fetch_add(1, Ordering::SeqCst), 0, "two batches held at once");
                    assert!(!h.is_free(), "the committer holds a batch: not free");
                    taken.fetch_add(1, Ordering::SeqCst);
                    at_once.fetch_sub(1, Ordering::SeqCst);
                    h.done();
                }
            })
        };
        for _ in 0..1000 {
            h.give(empty());
        }
        h.wait_free();
        assert!(h.is_free());
        assert_eq!(taken.load(Ordering::SeqCst), 1000);
        h.give(empty());
        h.close();
        committer.join().unwrap();
        assert_eq!(taken.load(Ordering::SeqCst), 1001, "the batch given before close was taken");
    }
}
