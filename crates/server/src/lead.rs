//! Who leads a stream (docs/scale-out.md, "Failover"): the elector, a thread of each
//! stream node that holds, renews, watches and takes over the stream's lease
//! ([`dacu_jetstream::lease`]).
//!
//! - The leader renews its lease every `log.renew_ms`. A renewal refused because another
//!   node wrote the lease means it was taken over: the node steps down and follows.
//! - A follower reads the lease every [`WATCH`]. When its revision has not moved for
//!   `log.lease_ms` by this node's own clock — or there is none, or its holder released
//!   it — the follower claims it (compare-and-set on the revision it saw) and takes over:
//!   the read view reads to the end of the stream and fences it with a marker.
//! - A read replica (`log.replica`) only watches, to know where to send writers.
//!
//! Timing never decides safety: a node that believes it leads but does not is refused by
//! the stream on its first append. The lease's time only bounds how long writes wait
//! for a new leader after one dies.

use dacu_jetstream::lease::{Holder, Lease, Seen};
use dacu_node::{Node, Role};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a follower reads the lease.
const WATCH: Duration = Duration::from_millis(100);

/// The stream's leadership as this node sees it; in [`crate::app::App`].
pub struct Cluster {
    /// The leader's address as the lease last said (this node's own when it leads).
    pub leader: RwLock<Option<String>>,
    /// This node never leads.
    pub replica: bool,
    lease_ms: u64,
    renew_ms: u64,
    advertise: String,
    /// The lease, before the elector takes it and after it hands it back.
    lease: Mutex<Option<Lease>>,
    elector: Mutex<Option<(JoinHandle<Ended>, Arc<AtomicBool>)>>,
    /// The lease's revision this node holds when the elector stopped.
    held: Mutex<Option<(u64, Holder)>>,
}

/// What the elector hands back when it stops.
struct Ended {
    lease: Lease,
    held: Option<(u64, Holder)>,
}

impl Cluster {
    pub fn new(lease: Lease, cfg: &crate::config::LogConfig) -> Cluster {
        Cluster {
            leader: RwLock::new(None),
            replica: cfg.replica,
            lease_ms: cfg.lease_ms,
            renew_ms: cfg.renew_ms,
            advertise: cfg.advertise.clone(),
            lease: Mutex::new(Some(lease)),
            elector: Mutex::new(None),
            held: Mutex::new(None),
        }
    }

    /// The leader's address, when known.
    pub fn leader(&self) -> Option<String> {
        self.leader.read().expect("leader lock").clone()
    }

    /// Starts the elector once the node listens on `bound`.
    pub fn start(self: &Arc<Self>, node: Arc<Node>, bound: std::net::SocketAddr) {
        let Some(lease) = self.lease.lock().expect("lease lock").take() else { return };
        let addr = if self.advertise.is_empty() { format!("http://{bound}") } else { self.advertise.clone() };
        let me = Holder { node: format!("{addr} pid {}", std::process::id()), addr, term: 0, released: false };
        let stop = Arc::new(AtomicBool::new(false));
        let e = Elector { cluster: self.clone(), node, lease, me, stop: stop.clone() };
        let h = std::thread::Builder::new().name("dacu-elector".into()).spawn(move || e.run());
        match h {
            Ok(h) => *self.elector.lock().expect("elector lock") = Some((h, stop)),
            Err(err) => eprintln!("dacu: cannot start the elector thread ({err}): this node only follows"),
        }
    }

    /// Stops the elector (the lease is no longer renewed); [`Cluster::release`] then lets
    /// it go once the node has made its last commit.
    pub fn stop(&self) {
        let Some((h, stop)) = self.elector.lock().expect("elector lock").take() else { return };
        stop.store(true, Ordering::SeqCst);
        if let Ok(ended) = h.join() {
            *self.held.lock().expect("held lock") = ended.held;
            *self.lease.lock().expect("lease lock") = Some(ended.lease);
        }
    }

    /// Marks the lease released, if this node held it: a follower takes over at once
    /// instead of after `log.lease_ms`.
    pub fn release(&self) {
        let (Some((rev, mut holder)), Some(lease)) =
            (self.held.lock().expect("held lock").take(), self.lease.lock().expect("lease lock").take())
        else {
            return;
        };
        holder.released = true;
        if let Err(e) = lease.write(&holder, Some(rev)) {
            eprintln!("dacu: the lease was not released ({e}); a follower takes over when it expires");
        }
    }
}

struct Elector {
    cluster: Arc<Cluster>,
    node: Arc<Node>,
    lease: Lease,
    me: Holder,
    stop: Arc<AtomicBool>,
}

/// What the elector knows of the lease.
struct Watch {
    seen: Seen,
    /// When `seen`'s revision was first seen (this node's clock).
    since: Instant,
    /// The revision this node wrote and the holder it wrote, while it leads.
    mine: Option<(u64, Holder)>,
    renewed: Instant,
}

impl Elector {
    fn run(self) -> Ended {
        let now = Instant::now();
        let mut w = Watch { seen: Seen::default(), since: now, mine: None, renewed: now };
        let mut first = true;
        while !self.stop.load(Ordering::SeqCst) {
            if w.mine.is_some() {
                self.lead(&mut w);
            } else {
                self.follow(&mut w, first);
                first = false;
            }
            let pause = if w.mine.is_some() { Duration::from_millis(self.cluster.renew_ms).min(WATCH) } else { WATCH };
            std::thread::sleep(pause);
        }
        Ended { lease: self.lease, held: w.mine }
    }

    fn set_leader(&self, addr: Option<String>) {
        *self.cluster.leader.write().expect("leader lock") = addr;
    }

    /// Renews the lease when due; steps down when another node holds it.
    fn lead(&self, w: &mut Watch) {
        if self.node.role() == Role::Follower {
            // The stream refused this node's append: another writer took over. Until the
            // lease says who, writes here wait (503) rather than redirect to this node.
            w.mine = None;
            w.seen = Seen::default();
            self.set_leader(None);
            return;
        }
        if w.renewed.elapsed() < Duration::from_millis(self.cluster.renew_ms) {
            return;
        }
        let (rev, holder) = w.mine.clone().expect("leading");
        match self.lease.write(&holder, Some(rev)) {
            Ok(r) => {
                w.mine = Some((r, holder));
                w.renewed = Instant::now();
            }
            Err(e) => match self.lease.read() {
                Ok(seen) if seen.revision != Some(rev) => {
                    let by = seen.holder.as_ref().map_or("another node".to_string(), |h| h.node.clone());
                    tracing::warn!(by = %by, "the lease was taken over; stepping down");
                    self.node.step_down(&format!("the lease is held by {by}"));
                    self.set_leader(seen.holder.as_ref().filter(|h| !h.released).map(|h| h.addr.clone()));
                    w.mine = None;
                    w.since = Instant::now();
                    w.seen = seen;
                }
                // The server cannot be reached: keep trying. Should a follower take
                // over meanwhile, the stream refuses this node's next append.
                _ => tracing::warn!(error = %e, "cannot renew the lease"),
            },
        }
    }

    /// Watches the lease; claims it when it has lapsed (or at once when there is none).
    fn follow(&self, w: &mut Watch, first: bool) {
        let seen = match self.lease.read() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the lease");
                return;
            }
        };
        if seen.revision != w.seen.revision || first {
            w.since = Instant::now();
            self.set_leader(seen.holder.as_ref().filter(|h| !h.released).map(|h| h.addr.clone()));
        }
        w.seen = seen;
        let lapsed = match &w.seen.holder {
            None => w.seen.revision.is_none() || w.since.elapsed() >= Duration::from_millis(self.cluster.lease_ms),
            Some(h) => h.released || w.since.elapsed() >= Duration::from_millis(self.cluster.lease_ms),
        };
        if lapsed {
            // Its holder is gone: writes wait (503) rather than go to a dead address.
            self.set_leader(None);
            if !self.cluster.replica {
                self.claim(w);
            }
        }
    }

    fn claim(&self, w: &mut Watch) {
        let term = w.seen.holder.as_ref().map_or(0, |h| h.term) + 1;
        let holder = Holder { term, ..self.me.clone() };
        let Ok(rev) = self.lease.write(&holder, w.seen.revision) else {
            return; // another node claimed it first: the next read says who
        };
        let t0 = Instant::now();
        let marker = serde_json::json!({"node": holder.node, "addr": holder.addr, "term": term}).to_string();
        match self.node.take_over(&marker) {
            Ok(seq) => {
                tracing::info!(term, marker_seq = seq, took_ms = t0.elapsed().as_millis() as u64, "leading the stream");
                eprintln!("dacu: leading the stream (term {term}, from stream sequence {seq})");
                // Named only now: until the writer takes requests, writes here wait
                // (503) rather than redirect to this node itself.
                self.set_leader(Some(holder.addr.clone()));
                w.mine = Some((rev, holder));
                // The claim was a write of the lease: the next renewal is due one
                // `renew_ms` after it (at once when the takeover took longer).
                w.renewed = t0;
            }
            Err(e) => {
                eprintln!("dacu: could not take the stream over: {e}");
                self.set_leader(None);
                // Let another follower have it at once.
                let _ = self.lease.write(&Holder { released: true, ..holder }, Some(rev));
            }
        }
    }
}
