//! Durable partitions (docs/scale-out.md, "Durable partitions"): each partition's log in
//! a data directory of its own, `DIR/p0` to `DIR/p{N-1}`, and what the partitions recover
//! from them.
//!
//! A partition's log is a dacu data directory's log whose entries each begin with a
//! `partition_entry` event (the command's time; for a definition, its number), followed
//! by the events the partition applied for it — for a definition's copy too, so that
//! replaying the log alone rebuilds the partition's engine. The router's records and the
//! escrow are not logged: recovery derives them from the logs.
//!
//! A partition answers a command only once the commit holding its entry is durable. The
//! one thing a crash can leave half done is a definition: partition 0 decides it and
//! queues it to the others before its own commit, so some logs may hold it and others
//! not. Every partition applies the definitions in one order, and whatever it applied
//! after one is in a later batch of its log, so a missing definition is missing from a
//! log's end: recovery appends it there, from a log that holds it.

use crate::escrow::Escrow;
use crate::partition::{escrowed, Logged, Partition, Partitioned};
use crate::projection::{merged, Kept};
use crate::route::MAX_PARTITIONS;
use crate::router::Router;
use dacu_core::{Event, Ts};
use dacu_log::follow::Follow;
use dacu_log::{Batcher, DataDir, EventLog, FileLog, Options, FESTIVAL_FILE};
use std::path::{Path, PathBuf};

/// A partition's durable log: the batch being built and the file log it is appended to.
pub(crate) struct Sink {
    batcher: Batcher,
    log: FileLog,
    /// The data directory's exclusive lock, held while the partition runs.
    _lock: std::fs::File,
    path: PathBuf,
    /// Why it takes nothing more, after a failed write (or an entry it could not frame).
    failed: Option<String>,
}

impl Sink {
    /// Frames one entry: its `partition_entry`, then its events; returns the former.
    pub(crate) fn frame(&mut self, at: Option<Ts>, definition: Option<usize>, events: &[Event]) -> Event {
        let marker = Event::PartitionEntry { at, definition: definition.map(|k| k as u64) };
        if self.failed.is_some() {
            return marker;
        }
        let framed = self.batcher.append(std::slice::from_ref(&marker)).and_then(|()| self.batcher.append(events));
        if let Err(e) = framed {
            // Applied but not loggable: the partition stops rather than diverge from its log.
            self.failed = Some(format!("partition log {}: {}", self.path.display(), e.message));
        }
        marker
    }

    /// Writes and fsyncs what was framed since the last commit.
    pub(crate) fn commit(&mut self) -> Result<(), String> {
        if let Some(why) = &self.failed {
            return Err(why.clone());
        }
        let Some(batch) = self.batcher.seal() else { return Ok(()) };
        self.log.append(&batch).map(|_| ()).map_err(|e| {
            let why = format!("partition log {}: {e}", self.path.display());
            self.failed = Some(why.clone());
            why
        })
    }

    pub(crate) fn failed(&self) -> Option<&str> {
        self.failed.as_deref()
    }
}

/// The data directory of partition `i` under `root`.
pub fn partition_dir(root: &Path, i: u32) -> PathBuf {
    root.join(format!("p{i}"))
}

/// How many partition directories `root` holds: `p0`, `p1`, … while each has a festival.
pub fn existing(root: &Path) -> u32 {
    (0..=MAX_PARTITIONS).take_while(|&i| partition_dir(root, i).join(FESTIVAL_FILE).exists()).count() as u32
}

/// One entry of a partition's log, read back.
struct Entry {
    at: Option<Ts>,
    definition: Option<usize>,
    events: Vec<Event>,
}

/// Opens the `n` partitions under `root` — created from the festival source `festival`
/// when `root` holds none — and recovers them: each engine from its log, the missing
/// definitions appended, the router's records and the escrow derived. The partitions
/// record (what settlements are decided on). `options` gives each data directory's.
pub fn open(root: &Path, festival: Option<&str>, n: u32, options: impl Fn() -> Options) -> Result<Partitioned, String> {
    if !(1..=MAX_PARTITIONS).contains(&n) {
        return Err(format!("partitions must be 1 to {MAX_PARTITIONS}, got {n}"));
    }
    let found = existing(root);
    check_layout(root, found, n, festival.is_some())?;
    let mut parts = Vec::with_capacity(n as usize);
    let mut entries = Vec::with_capacity(n as usize);
    for i in 0..n {
        let path = partition_dir(root, i);
        let opened = match (i < found, festival) {
            (true, _) => DataDir::open(&path, options()),
            (false, Some(src)) => DataDir::create_with(&path, src, options()),
            (false, None) => unreachable!("check_layout refuses a missing partition without a festival"),
        };
        let dir = opened.map_err(|e| format!("partition {i} ({}): {e}", path.display()))?.0;
        let p = dir.into_parts();
        let read = read_back(&p.path, p.log.durable_seq(), p.engine.festival())?;
        let sink = Sink { batcher: p.batcher, log: p.log, _lock: p.lock, path: p.path, failed: None };
        parts.push(Partition::from_engine(i, p.engine, Some(sink)));
        entries.push(read);
    }
    let definitions = repair(&mut parts, &mut entries)?;
    Ok(assemble(parts, &entries, definitions))
}

/// Refuses a layout the partitions cannot be opened from: another number of partitions
/// than the directory holds (this build does not repartition), or partitions to create
/// beside ones that already hold events.
fn check_layout(root: &Path, found: u32, n: u32, festival: bool) -> Result<(), String> {
    if found > n {
        return Err(format!(
            "{} holds {found} partitions, not {n}: open it with --partitions {found} (dacu does not repartition a festival)",
            root.display()
        ));
    }
    if found < n && !festival {
        return Err(match found {
            0 => format!("{} holds no partitions: create them with --festival FILE", root.display()),
            _ => format!("{} holds {found} partitions, not {n}: open it with --partitions {found}", root.display()),
        });
    }
    // Partitions left behind by a creation that stopped half way may be completed.
    for i in (0..found).filter(|_| found < n) {
        let events = dacu_log::rebuild_from_log(&partition_dir(root, i)).map(|(e, _)| e.state().events);
        if events.is_ok_and(|e| e > 0) {
            return Err(format!(
                "{} holds {found} partitions with events, not {n}: open it with --partitions {found}",
                root.display()
            ));
        }
    }
    Ok(())
}

/// The entries of a partition's log, from its first event to `durable`.
fn read_back(path: &Path, durable: u64, festival: &dacu_core::Festival) -> Result<Vec<Entry>, String> {
    let ctx = festival.format1_context();
    let mut out: Vec<Entry> = Vec::new();
    if durable == 0 {
        return Ok(out);
    }
    let mut follow = Follow::from_start(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bad = None;
    follow
        .read(durable, |records, _| {
            for (seq, payload) in records {
                match dacu_log::codec::decode(payload, &ctx)? {
                    Event::PartitionEntry { at, definition } => {
                        let definition = definition.map(|k| k as usize);
                        out.push(Entry { at, definition, events: Vec::new() });
                    }
                    e => match out.last_mut() {
                        Some(entry) => entry.events.push(e),
                        None => bad = Some(*seq),
                    },
                }
            }
            Ok(())
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match bad {
        Some(seq) => {
            Err(format!("{}: event {seq} comes before any partition_entry: not a partition's log", path.display()))
        }
        None => Ok(out),
    }
}

/// Appends to each partition's log the definitions it lacks at its end; the number of
/// definitions.
fn repair(parts: &mut [Partition], entries: &mut [Vec<Entry>]) -> Result<usize, String> {
    let mut have = Vec::with_capacity(entries.len());
    for (i, log) in entries.iter().enumerate() {
        let ks: Vec<usize> = log.iter().filter_map(|e| e.definition).collect();
        if let Some(at) = ks.iter().enumerate().position(|(j, &k)| j != k) {
            return Err(format!("partition {i}'s log has definition {} where {at} belongs", ks[at]));
        }
        have.push(ks.len());
    }
    let total = have.iter().copied().max().unwrap_or(0);
    for i in 0..parts.len() {
        for k in have[i]..total {
            let (from, index) = find_definition(entries, k).expect("a log holds every definition below the most");
            let (at, events) = (entries[from][index].at, entries[from][index].events.clone());
            parts[i].apply_all(&events);
            parts[i].record_definition(false, k, at, &events);
            entries[i].push(Entry { at, definition: Some(k), events });
        }
        parts[i].commit()?;
    }
    Ok(total)
}

fn find_definition(entries: &[Vec<Entry>], k: usize) -> Option<(usize, usize)> {
    entries.iter().enumerate().find_map(|(i, log)| log.iter().position(|e| e.definition == Some(k)).map(|j| (i, j)))
}

/// The partitions with their projection logs, router records and escrow.
fn assemble(mut parts: Vec<Partition>, entries: &[Vec<Entry>], definitions: usize) -> Partitioned {
    let n = parts.len() as u32;
    for (part, log) in parts.iter_mut().zip(entries) {
        part.log = log.iter().filter_map(|e| logged(part.index, e)).collect();
    }
    let router = router_of(n, &parts, entries);
    let escrow = escrow_of(n, &parts, &entries[0]);
    let festival = parts[0].engine().festival_arc();
    let mut p = Partitioned::new(festival.clone(), n).expect("n was checked");
    p.parts = parts;
    p.router = router;
    p.escrow = escrow;
    p.recording = true;
    p.definitions = definitions;
    p.kept = Kept::new(festival, n as usize);
    p
}

/// What the projection keeps of an entry: as the partition recorded it while running.
fn logged(index: u32, e: &Entry) -> Option<Logged> {
    match e.definition {
        Some(k) if index == 0 => Some(Logged::Definition(k, e.at, e.events.clone())),
        Some(k) => Some(Logged::Definition(k, e.at, Vec::new())),
        None if index != 0 && e.events.iter().any(|ev| matches!(ev, Event::Ticked { .. })) => {
            let own = crate::tick::own(&e.events);
            (!own.is_empty()).then_some(Logged::Own(e.at, own))
        }
        None => Some(Logged::Own(e.at, e.events.clone())),
    }
}

/// The router's records from the partitions' own entries: each session, paid order and
/// accepted id where it was accepted, and the red packets in the projection's order (the
/// order a tick's answer lists their expiries in).
fn router_of(n: u32, parts: &[Partition], entries: &[Vec<Entry>]) -> Router {
    let mut r = Router::new(n);
    let mut packets = std::collections::BTreeMap::new();
    for (p, log) in entries.iter().enumerate() {
        for ev in log.iter().filter(|e| e.definition.is_none()).flat_map(|e| &e.events) {
            match ev {
                Event::LiveStarted { session, .. } => {
                    r.sessions.entry(session.clone()).or_insert(p as u32);
                }
                Event::OrderPaid { order, .. } => {
                    r.orders.entry(order.clone()).or_insert(p as u32);
                }
                Event::Identified { id, .. } => {
                    r.ids.entry(id.clone()).or_insert(p as u32);
                }
                Event::RedPacketCreated { def, .. } | Event::RedPacketCommitted { def, .. } => {
                    packets.insert(def.packet.clone(), p as u32);
                }
                _ => {}
            }
        }
    }
    let logs: Vec<&[Logged]> = parts.iter().map(|p| p.log.as_slice()).collect();
    for ev in merged(&logs) {
        if let Event::RedPacketCreated { def, .. } | Event::RedPacketCommitted { def, .. } = ev {
            if let Some(&p) = packets.get(&def.packet) {
                r.restore_packet(&def.packet, p);
            }
        }
    }
    r
}

/// The escrow: each coupon's stock, of which each partition has spent what it accepted
/// claims for; nothing is held (a slab a partition held unspent went back with the
/// crash).
fn escrow_of(n: u32, parts: &[Partition], coordinator: &[Entry]) -> Escrow {
    let mut escrow = Escrow::new(n);
    for e in coordinator.iter().filter(|e| e.definition.is_some()) {
        if let Some((coupon, stock)) = escrowed(&e.events) {
            let spent: Vec<u64> = parts.iter().map(|p| p.claimed(&coupon)).collect();
            escrow.restore(&coupon, stock, &spent);
        }
    }
    escrow
}

#[cfg(test)]
mod tests {
    use super::*;
    use dacu_core::parse_line;

    const MINI: &str = include_str!("../../../festivals/example-mini.toml");

    fn coupon(i: u32, stock: u32) -> dacu_core::Command {
        parse_line(&format!(
            r#"{{"type":"create_coupon","id":"cc{i}","coupon":"c{i}","issuer":"platform","scope":"platform","off":100,"stock":{stock},"per_user":1,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-08T00:00:00+08:00","valid_days":1,"at":"2021-11-01T00:00:00+08:00"}}"#
        ))
        .unwrap()
    }

    fn claim(coupon: u32, user: u32) -> dacu_core::Command {
        parse_line(&format!(
            r#"{{"type":"claim_coupon","id":"k{coupon}-{user}","coupon":"c{coupon}","user":"u{user}","at":"2021-11-05T20:00:00+08:00"}}"#
        ))
        .unwrap()
    }

    fn open_at(dir: &Path) -> Partitioned {
        open(dir, Some(MINI), 2, Options::default).unwrap()
    }

    /// A crash between partition 0's commit and another's (or the other way round)
    /// leaves a definition in some logs only: reopening appends it to the others, and
    /// the escrow counts what every partition's claims spent.
    #[test]
    fn a_definition_durable_in_one_partition_only_is_appended_to_the_others() {
        for durable_in in [0usize, 1] {
            let dir = tempfile::tempdir().unwrap();
            let mut p = open_at(dir.path());
            p.execute(&coupon(0, 5)).unwrap().unwrap();
            for u in 0..4 {
                p.execute(&claim(0, u)).unwrap().unwrap();
            }
            p.commit().unwrap();
            p.execute(&coupon(1, 3)).unwrap().unwrap();
            p.parts[durable_in].commit().unwrap();
            drop(p);
            let mut p = open_at(dir.path());
            assert_eq!(p.definitions, 2, "with the second coupon durable in partition {durable_in}");
            for part in &p.parts {
                let st = part.engine().state();
                assert!(st.market.coupon_ids.get("c1").is_some(), "c1 in partition {}", part.index);
                let defs = part.log.iter().filter(|l| matches!(l, Logged::Definition(..))).count();
                assert_eq!(defs, 2, "definitions logged by partition {}", part.index);
            }
            assert_eq!((p.claimed("c0"), p.escrow.out("c0"), p.escrow.left("c0")), (4, 4, 1));
            let accepted = (4..9).filter(|&u| p.execute(&claim(0, u)).unwrap().is_ok()).count();
            assert_eq!((accepted, p.claimed("c0")), (1, 5), "c0 is claimed to its stock, not beyond");
            p.commit().unwrap();
            drop(p);
            // The repair was itself made durable: nothing is appended twice.
            let p = open_at(dir.path());
            assert_eq!((p.definitions, p.claimed("c0"), p.escrow.left("c0")), (2, 5, 0));
        }
    }

    #[test]
    fn a_log_whose_events_precede_any_entry_is_not_a_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let path = partition_dir(dir.path(), 0);
        let (mut d, _) = DataDir::create_with(&path, MINI, Options::default()).unwrap();
        d.execute(&coupon(0, 5)).unwrap();
        d.commit().unwrap();
        drop(d);
        let e = open(dir.path(), None, 1, Options::default).err().unwrap();
        assert!(e.contains("not a partition's log"), "{e}");
    }
}
