//! Partitions running at once, one thread each, the coordinator's escrow between them
//! behind one lock: the concurrent form of [`crate::Partitioned`], for the load test and
//! the benchmark. The router routes at submission ([`crate::router::Router`]); a
//! definition is decided by partition 0's thread, which queues its outcome (its events,
//! or none when refused) to every other partition before it answers. Every command
//! carries the number of definitions submitted before it, and a partition holds it back
//! (with whatever comes after it) until it has applied that many, so whatever is sent
//! after a definition finds it applied, without waiting for the definition's answer. Red
//! packets are created and grabbed in their session's partition, as in one thread.
//!
//! A `settle`, when the partitions keep their logs ([`Partitioned::record`] before
//! [`Cluster::start`]), is a barrier: every partition stops where its queue reaches it
//! and hands its log to the coordinator, which decides the settlement on the projection
//! of the logs (everything every partition applied before it: the watermark every
//! partition has passed), then gives each its log back with the settlement's events,
//! which every partition applies and partition 0 logs.
//!
//! A broadcast (a tick, a settlement) reaches partition 0 first; the others get it once
//! partition 0 has reached it, so every definition it decided before is queued to them
//! ahead of it. While a broadcast is sent nothing else is: whatever was sent before it
//! is before it in every partition, whatever after, after.
//!
//! A `tick` is sent to every partition, one tick at a time, so that every queue has the
//! ticks in one order; each partition decides it where its queue reaches it and waits
//! until every partition has decided before it applies it (or, when one refused it,
//! does not) — crate::tick. A command another client had routed but not yet sent when the
//! tick was sent reaches its partition after it, and its packet then expires at the next
//! tick: [`Cluster::run`] routes and sends everything from one thread, in order.
//!
//! Where the threads answer otherwise than one thread: a grab by a user the packet's
//! partition never saw is refused `not_eligible` in that partition's words (one thread
//! looks for the user in the other partitions and answers as the single writer does); a
//! refused `create_red_packet` leaves its record with the router (one thread drops it),
//! so the same packet id created later in a session elsewhere goes to the first one's
//! partition, which refuses the session as unknown where the single writer accepts it.
//!
//! Partitions with durable logs ([`crate::durable`]) answer a command only once the
//! commit holding its entry returned: each thread keeps its answers while more jobs are
//! queued, then commits once and sends them ([`Answer::Failed`] when the commit failed);
//! a tick or a settlement is answered once every partition committed it.
//!
//! A claim whose partition holds no stock asks the coordinator for a slab. When none is
//! left to grant but other partitions may still hold some, the coordinator asks them to
//! give it back and the claim is answered [`Answer::Busy`] (the service's `busy`, with
//! `Retry-After`); it is refused as sold out only when no partition holds any.

use crate::escrow::Escrow;
use crate::partition::{Logged, Partition, Partitioned, Step};
use crate::projection::Kept;
use crate::route::{key, Key};
use crate::router::Router;
use dacu_core::{Command, Engine, Event, Rejection, Ts};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long an idle partition waits for a command before it looks for requests to give
/// stock back.
const IDLE: Duration = Duration::from_millis(1);

/// The answer to one command.
#[derive(Debug)]
pub enum Answer {
    Accepted(Vec<Event>),
    Rejected(Rejection),
    /// Stock is held by other partitions, which were asked to give it back: resend.
    Busy,
    /// Not partitioned (yet), or `settle` on partitions that keep no logs.
    Unsupported(String),
    /// The partition's durable log failed a write: it takes nothing more (why), and the
    /// command may or may not be durable.
    Failed(String),
}

#[allow(
    clippy::large_enum_variant,
    reason = "nearly every job is a command: boxing it would add an allocation to each"
)]
enum Job {
    Run {
        command: Command,
        reply: Sender<Answer>,
        /// Definitions submitted before it: the partition applies them first.
        after: u64,
    },
    /// The outcome of the next definition submitted: its events, decided by the
    /// coordinator, or none when it was refused.
    Apply(Option<Definition>),
    /// A tick: decide it, say what was decided, and apply it if `go` says so.
    Tick {
        command: Command,
        decided: Sender<(usize, Result<Vec<Event>, Rejection>)>,
        go: Receiver<bool>,
        /// Said once what it applied is durable (or its log failed).
        durable: Sender<Result<(), String>>,
    },
    /// A settlement: hand the log to the coordinator and wait for it back, with the
    /// settlement's events to apply when it was accepted.
    Barrier {
        arrived: Sender<(usize, Vec<Logged>)>,
        resume: Receiver<(Vec<Logged>, Option<Definition>)>,
        durable: Sender<Result<(), String>>,
    },
    Stop,
}

/// A definition the coordinator decided: its number among the definitions, its time and
/// its events (what a partition's log records of it).
#[derive(Clone)]
struct Definition {
    k: usize,
    at: Option<Ts>,
    events: Vec<Event>,
}

/// The coordinator's side: the escrow, what each partition last said it holds, and the
/// coupons each partition is asked to give back.
struct Coord {
    escrow: Escrow,
    /// Per coupon and partition: at least what the partition holds unspent (it spends
    /// without telling; it tells when it is granted or gives back).
    held: BTreeMap<String, Vec<u64>>,
    wanted: Vec<BTreeSet<String>>,
}

struct Shared {
    coord: Mutex<Coord>,
    /// Per partition: `wanted` is not empty.
    asked: Vec<AtomicBool>,
    /// Whether the partitions keep their logs (what a settlement is decided on).
    recording: bool,
    /// Definitions decided so far (the next one's number).
    definitions: AtomicUsize,
    /// Commands answered so far by the partitions (broadcasts not counted).
    answered: AtomicU64,
    /// Definitions submitted so far: counted, and sent to partition 0, under the gate's
    /// exclusive lock, so a command sent after a definition carries a count that
    /// includes it.
    submitted: AtomicU64,
    /// Routes at submission; a partition records the ids it accepted (Router::accepted).
    router: Mutex<Router>,
}

/// N partition threads.
pub struct Cluster {
    senders: Vec<Sender<Job>>,
    threads: Vec<JoinHandle<Partition>>,
    shared: Arc<Shared>,
    /// Held while a broadcast (tick, settlement) is sent and decided: one at a time.
    ticking: Mutex<()>,
    /// Sending takes it shared; sending a broadcast, exclusive (the module's comment).
    gate: RwLock<()>,
    /// The projection settlements are decided on, kept from one barrier to the next.
    kept: Mutex<Kept>,
}

impl Cluster {
    /// Starts one thread per partition of `set_up` (with what it holds so far).
    pub fn start(set_up: Partitioned) -> Cluster {
        let n = set_up.partitions();
        let coord = Coord { escrow: set_up.escrow, held: BTreeMap::new(), wanted: vec![BTreeSet::new(); n as usize] };
        let shared = Arc::new(Shared {
            coord: Mutex::new(coord),
            asked: (0..n).map(|_| AtomicBool::new(false)).collect(),
            recording: set_up.recording,
            definitions: AtomicUsize::new(set_up.definitions),
            answered: AtomicU64::new(0),
            submitted: AtomicU64::new(0),
            router: Mutex::new(set_up.router),
        });
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| channel::<Job>()).unzip();
        let mut threads = Vec::new();
        for (mut part, rx) in set_up.parts.into_iter().zip(receivers) {
            let shared = shared.clone();
            // Partition 0 copies definitions into the others.
            let peers = if part.index == 0 { senders[1..].to_vec() } else { Vec::new() };
            let name = format!("dacu-partition-{}", part.index);
            let t = std::thread::Builder::new().name(name).spawn(move || {
                serve(&mut part, &rx, &peers, &shared);
                part
            });
            threads.push(t.expect("a partition thread starts"));
        }
        Cluster {
            senders,
            threads,
            shared,
            ticking: Mutex::new(()),
            gate: RwLock::new(()),
            kept: Mutex::new(set_up.kept),
        }
    }

    /// How many commands the partitions have answered (a tick or settlement not counted).
    pub fn answered(&self) -> u64 {
        self.shared.answered.load(Ordering::Relaxed)
    }

    /// Sends a command to its partition; the answer comes on the receiver.
    pub fn submit(&self, command: Command) -> Receiver<Answer> {
        let (reply, rx) = channel();
        match command {
            Command::Tick(_) => {
                let _ = reply.send(self.tick(command));
                return rx;
            }
            Command::Settle(_) if self.shared.recording => {
                let _ = reply.send(self.settle(&command));
                return rx;
            }
            _ => {}
        }
        let routed = self.shared.router.lock().expect("router lock").route(&command, self.shared.recording);
        match routed {
            Ok(p) => self.send(p as usize, command),
            Err(why) => {
                let _ = reply.send(Answer::Unsupported(why.0));
                rx
            }
        }
    }

    /// A tick in every partition (crate::tick): sent to all, decided by all, then applied
    /// by all or, when one refused it, by none. Answers when every partition has decided.
    fn tick(&self, command: Command) -> Answer {
        let _one_at_a_time = self.ticking.lock().expect("tick lock");
        let (tx, rx) = channel();
        let (durable, made) = channel();
        let mut gos = Vec::with_capacity(self.senders.len());
        let mut decided: Vec<Option<Result<Vec<Event>, Rejection>>> = vec![None; self.senders.len()];
        self.broadcast(
            || {
                let (go, wait) = channel();
                gos.push(go);
                Job::Tick { command: command.clone(), decided: tx.clone(), go: wait, durable: durable.clone() }
            },
            || {
                let (p, r) = rx.recv().expect("partition 0 decides the tick");
                decided[p] = Some(r);
            },
        );
        drop(tx);
        for (p, r) in rx.iter().take(self.senders.len() - 1) {
            decided[p] = Some(r);
        }
        let decided: Result<Vec<Vec<Event>>, Rejection> =
            decided.into_iter().map(|r| r.expect("every partition decides a tick")).collect();
        for go in gos {
            let _ = go.send(decided.is_ok());
        }
        drop(durable);
        if let Some(why) = first_failure(&made) {
            return Answer::Failed(why);
        }
        match decided {
            Ok(all) => Answer::Accepted(crate::tick::answer(&all, &self.shared.router.lock().expect("router lock"))),
            Err(e) => Answer::Rejected(e),
        }
    }

    /// Sends the job `job` makes to partition 0, waits (`arrived`) until partition 0 has
    /// reached it, then sends one to every other partition; nothing else is sent
    /// meanwhile.
    fn broadcast(&self, mut job: impl FnMut() -> Job, arrived: impl FnOnce()) {
        let _alone = self.gate.write().expect("gate lock");
        let _ = self.senders[0].send(job());
        arrived();
        for q in &self.senders[1..] {
            let _ = q.send(job());
        }
    }

    /// A settlement, at a barrier of every partition (the module's comment).
    fn settle(&self, command: &Command) -> Answer {
        let (decided, failed) = self.barrier(|views, kept| {
            let mut events = Vec::new();
            let decided = kept.catch_up(views).decide(command, &mut events).map(|()| events);
            let settled = match &decided {
                Ok(events) => Some(Definition {
                    k: self.shared.definitions.fetch_add(1, Ordering::SeqCst),
                    at: command.at(),
                    events: events.clone(),
                }),
                Err(_) => None,
            };
            (decided, settled)
        });
        match failed {
            Some(why) => Answer::Failed(why),
            None => answer(decided),
        }
    }

    /// Runs `f` on the projection of everything every partition applied so far, at a
    /// barrier (a settlement's, deciding nothing): a consistent cut, which holds whatever
    /// was answered before the call. `None` when the partitions keep no logs.
    pub fn read<T>(&self, f: impl FnOnce(&Engine) -> T) -> Option<T> {
        if !self.shared.recording {
            return None;
        }
        Some(self.barrier(|views, kept| (f(kept.catch_up(views)), None)).0)
    }

    /// Stops every partition where its queue reaches a barrier, gives `decide` their logs
    /// and the kept projection, hands every partition its log back with the definition
    /// `decide` made, if any, to apply; what `decide` returned, and the first partition's
    /// failure to commit, if one failed.
    fn barrier<R>(
        &self,
        decide: impl FnOnce(&[&[Logged]], &mut Kept) -> (R, Option<Definition>),
    ) -> (R, Option<String>) {
        let _one_at_a_time = self.ticking.lock().expect("tick lock");
        let n = self.senders.len();
        let (tx, rx) = channel();
        let (durable, made) = channel();
        let mut resumes = Vec::with_capacity(n);
        let mut logs: Vec<Vec<Logged>> = (0..n).map(|_| Vec::new()).collect();
        self.broadcast(
            || {
                let (go, wait) = channel();
                resumes.push(go);
                Job::Barrier { arrived: tx.clone(), resume: wait, durable: durable.clone() }
            },
            || {
                let (p, log) = rx.recv().expect("partition 0 reaches the barrier");
                logs[p] = log;
            },
        );
        drop(tx);
        for (p, log) in rx.iter().take(n - 1) {
            logs[p] = log;
        }
        let (r, definition) = {
            let views: Vec<&[Logged]> = logs.iter().map(Vec::as_slice).collect();
            decide(&views, &mut self.kept.lock().expect("projection lock"))
        };
        for (log, go) in logs.into_iter().zip(resumes) {
            let _ = go.send((log, definition.clone()));
        }
        drop(durable);
        (r, first_failure(&made))
    }

    /// Submits `commands` in their order from this thread, up to `window` unanswered at
    /// a time, resending what is answered busy; the answers, by index. Everything is sent
    /// in order — a definition is applied in every partition before whatever was sent
    /// after it, a tick and a settlement are between what came before and after them in
    /// every partition — so every partition applies each command after what came before
    /// it, as the single writer does; only a busy claim's resend comes later.
    pub fn run(&self, commands: &[Command], window: usize) -> Vec<Answer> {
        let mut out: Vec<Option<Answer>> = (0..commands.len()).map(|_| None).collect();
        let mut flying: VecDeque<(usize, Receiver<Answer>)> = VecDeque::new();
        for (i, c) in commands.iter().enumerate() {
            while flying.len() >= window.max(1) {
                self.land(commands, &mut flying, &mut out);
            }
            flying.push_back((i, self.submit(c.clone())));
        }
        while !flying.is_empty() {
            self.land(commands, &mut flying, &mut out);
        }
        out.into_iter().map(|a| a.expect("every command answered or refused")).collect()
    }

    /// Reads the oldest answer in flight; a busy one is sent again.
    fn land(&self, commands: &[Command], flying: &mut VecDeque<(usize, Receiver<Answer>)>, out: &mut [Option<Answer>]) {
        let Some((i, rx)) = flying.pop_front() else { return };
        match rx.recv().expect("a partition answers") {
            Answer::Busy => flying.push_back((i, self.submit(commands[i].clone()))),
            a => out[i] = Some(a),
        }
    }

    /// Sends a command routed before to partition `p`, with the number of definitions
    /// submitted before it (a definition itself: counted once sent).
    fn send(&self, p: usize, command: Command) -> Receiver<Answer> {
        let (reply, rx) = channel();
        if key(&command) == Key::Coordinator {
            let _alone = self.gate.write().expect("gate lock");
            let _ = self.senders[p].send(Job::Run { command, reply, after: 0 });
            self.shared.submitted.fetch_add(1, Ordering::AcqRel);
        } else {
            let _sending = self.gate.read().expect("gate lock");
            let after = self.shared.submitted.load(Ordering::Acquire);
            let _ = self.senders[p].send(Job::Run { command, reply, after });
        }
        rx
    }

    /// Stops the threads once they have answered everything sent; the partitions, the
    /// escrow and the router's records.
    pub fn stop(self) -> Partitioned {
        // Partition 0 first: whatever definitions it copies are queued before the others stop.
        for (tx, t) in self.senders.iter().zip(&self.threads) {
            let _ = tx.send(Job::Stop);
            while !t.is_finished() {
                std::thread::yield_now();
            }
        }
        let parts = self.threads.into_iter().map(|t| t.join().expect("a partition thread ends")).collect();
        let shared = Arc::try_unwrap(self.shared).ok().expect("the threads have ended");
        Partitioned {
            parts,
            escrow: shared.coord.into_inner().expect("coordinator lock").escrow,
            router: shared.router.into_inner().expect("router lock"),
            recording: shared.recording,
            definitions: shared.definitions.into_inner(),
            kept: self.kept.into_inner().expect("projection lock"),
        }
    }
}

/// Commands a partition holds back until it has applied the definitions submitted
/// before them, in the order they came.
#[derive(Default)]
struct Held {
    /// Definitions whose outcome partition 0 has passed on.
    seen: u64,
    waiting: VecDeque<(Command, Sender<Answer>, u64)>,
}

fn serve(part: &mut Partition, rx: &Receiver<Job>, peers: &[Sender<Job>], shared: &Shared) {
    let mut held = Held::default();
    let mut replies = Replies::default();
    loop {
        if shared.asked[part.index as usize].load(Ordering::Acquire) {
            give_back(part, shared);
        }
        // Group commit: the answers wait while more jobs are queued, then one commit
        // makes what they recorded durable before any is sent.
        let job = match rx.try_recv() {
            Ok(job) => Ok(job),
            Err(TryRecvError::Empty) => {
                replies.flush(part);
                rx.recv_timeout(IDLE)
            }
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
        };
        match job {
            // Partition 0 decides the definitions itself, in its queue's order.
            Ok(Job::Run { command, reply, after }) => {
                if part.index != 0 && (!held.waiting.is_empty() || after > held.seen) {
                    held.waiting.push_back((command, reply, after));
                } else {
                    run(part, &command, reply, peers, shared, &mut replies);
                }
            }
            Ok(Job::Apply(d)) => {
                if let Some(d) = d {
                    apply(part, d, shared);
                }
                held.seen += 1;
                while held.waiting.front().is_some_and(|(_, _, after)| *after <= held.seen) {
                    let (command, reply, _) = held.waiting.pop_front().expect("a command is waiting");
                    run(part, &command, reply, peers, shared, &mut replies);
                }
            }
            Ok(Job::Tick { command, decided, go, durable }) => {
                replies.flush(part);
                let r = part.decide(&command);
                let _ = decided.send((part.index as usize, r.clone()));
                if let (Ok(true), Ok(events)) = (go.recv(), &r) {
                    part.apply_decided(events);
                    part.record_tick(shared.recording, command.at(), events);
                }
                let _ = durable.send(replies.commit(part));
            }
            Ok(Job::Barrier { arrived, resume, durable }) => {
                replies.flush(part);
                let _ = arrived.send((part.index as usize, std::mem::take(&mut part.log)));
                let Ok((log, settled)) = resume.recv() else { return };
                part.log = log;
                if let Some(d) = settled {
                    apply(part, d, shared);
                }
                let _ = durable.send(replies.commit(part));
            }
            Ok(Job::Stop) | Err(RecvTimeoutError::Disconnected) => {
                replies.flush(part);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if replies.waiting.len() >= MAX_UNCOMMITTED {
            replies.flush(part);
        }
    }
}

/// The most answers a partition holds back for one commit.
const MAX_UNCOMMITTED: usize = 4096;

/// Answers waiting for the commit that makes what they recorded durable.
#[derive(Default)]
struct Replies {
    waiting: Vec<(Sender<Answer>, Answer)>,
}

impl Replies {
    /// As [`Replies::commit`], where a failure needs no more telling than each waiting
    /// command's answer.
    fn flush(&mut self, part: &mut Partition) {
        let _ = self.commit(part);
    }

    /// Commits and sends the answers waiting; when the commit fails, each is answered
    /// [`Answer::Failed`] instead.
    fn commit(&mut self, part: &mut Partition) -> Result<(), String> {
        let r = part.commit();
        for (reply, answer) in self.waiting.drain(..) {
            let answer = match (&r, answer) {
                (Err(why), Answer::Accepted(_)) => Answer::Failed(why.clone()),
                (_, a) => a,
            };
            let _ = reply.send(answer);
        }
        r
    }
}

/// The first failure the partitions reported on `made`, once every one has reported.
fn first_failure(made: &Receiver<Result<(), String>>) -> Option<String> {
    let all: Vec<Result<(), String>> = made.iter().collect();
    all.into_iter().find_map(Result::err)
}

/// Executes one command and answers it: the router learns the ids accepted, and the log
/// records the partition's own commands.
fn run(
    part: &mut Partition,
    command: &Command,
    reply: Sender<Answer>,
    peers: &[Sender<Job>],
    shared: &Shared,
    replies: &mut Replies,
) {
    if let Some(why) = part.failed() {
        // A definition not decided is passed on as refused, or the others would hold
        // back whatever was sent after it for ever.
        if key(command) == Key::Coordinator {
            for q in peers {
                let _ = q.send(Job::Apply(None));
            }
        }
        let _ = reply.send(Answer::Failed(why.to_string()));
        return;
    }
    let answer = execute(part, command, peers, shared);
    // The router's lock only for an id to record: most commands carry none.
    if let (Answer::Accepted(events), Some(_)) = (&answer, crate::router::recorded_id(command)) {
        if !events.is_empty() {
            shared.router.lock().expect("router lock").accepted(command, part.index);
        }
    }
    if let Answer::Accepted(events) = &answer {
        if key(command) != Key::Coordinator {
            part.record_own(shared.recording, command.at(), events);
        }
    }
    shared.answered.fetch_add(1, Ordering::Relaxed);
    replies.waiting.push((reply, answer));
}

fn execute(part: &mut Partition, c: &Command, peers: &[Sender<Job>], shared: &Shared) -> Answer {
    let k = match c {
        Command::ClaimCoupon(k) => k,
        _ if key(c) == Key::Coordinator => return define(part, c, peers, shared),
        _ => return answer(part.execute(c)),
    };
    let p = part.index as usize;
    let mut sold_out = false;
    let mut grant = || {
        let mut co = shared.coord.lock().expect("coordinator lock");
        let n = co.wanted.len();
        let g = co.escrow.grant(&k.coupon, p as u32);
        let held = co.held.entry(k.coupon.clone()).or_insert_with(|| vec![0; n]);
        held[p] = g;
        if g == 0 {
            let others: Vec<usize> = (0..n).filter(|&q| q != p && held[q] > 0).collect();
            sold_out = others.is_empty();
            for q in others {
                co.wanted[q].insert(k.coupon.clone());
                shared.asked[q].store(true, Ordering::Release);
            }
        }
        g
    };
    match part.claim(c, k, &mut grant) {
        Step::Done(r) => answer(r),
        Step::RefusedAfterStock(e) => Answer::Rejected(e),
        Step::NeedsStock if sold_out => Answer::Rejected(part.sold_out(&k.coupon)),
        Step::NeedsStock => Answer::Busy,
    }
}

/// Applies a definition the coordinator decided; partition 0 logs its events, the others
/// where they applied them.
fn apply(part: &mut Partition, d: Definition, shared: &Shared) {
    part.apply_all(&d.events);
    part.record_definition(shared.recording, d.k, d.at, &d.events);
}

/// A definition on partition 0: decided, its stock put in escrow, and its outcome (its
/// events, or none when refused) queued to every other partition — all before the
/// answer, and the escrow before any partition can claim from it.
fn define(part: &mut Partition, c: &Command, peers: &[Sender<Job>], shared: &Shared) -> Answer {
    let r = part.execute(c);
    let decided = match &r {
        Ok(events) => {
            let k = shared.definitions.fetch_add(1, Ordering::SeqCst);
            part.record_definition(shared.recording, k, c.at(), events);
            if let Some((coupon, stock)) = crate::partition::escrowed(events) {
                shared.coord.lock().expect("coordinator lock").escrow.define(&coupon, stock);
            }
            Some(Definition { k, at: c.at(), events: events.clone() })
        }
        Err(_) => None,
    };
    for q in peers {
        let _ = q.send(Job::Apply(decided.clone()));
    }
    answer(r)
}

/// Gives back whatever the coordinator asked for.
fn give_back(part: &mut Partition, shared: &Shared) {
    let mut co = shared.coord.lock().expect("coordinator lock");
    let p = part.index as usize;
    let wanted = std::mem::take(&mut co.wanted[p]);
    for coupon in wanted {
        let amount = part.take_held(&coupon);
        co.escrow.give_back(&coupon, part.index, amount);
        if let Some(h) = co.held.get_mut(&coupon) {
            h[p] = 0;
        }
    }
    shared.asked[p].store(false, Ordering::Release);
}

fn answer(r: Result<Vec<Event>, Rejection>) -> Answer {
    match r {
        Ok(events) => Answer::Accepted(events),
        Err(e) => Answer::Rejected(e),
    }
}
