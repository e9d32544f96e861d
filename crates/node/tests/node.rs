//! The node through its public API: many writers at once, receipts after commits,
//! dense positions, reads of one's own writes, backpressure, the clock and its ticks,
//! shutdown, and a failed write.

use dacu_core::digest::digest;
use dacu_core::{parse_line, Code, Command, Ts};
use dacu_log::{DataDir, Options};
use dacu_node::{ManualClock, Node, NodeConfig, Outcome, Request, SubmitError, Time};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn open(path: &Path) -> DataDir {
    let f = root().join("festivals/example-mini.toml");
    DataDir::open_or_create(path, Some(&f), Options::default()).unwrap().0
}

fn cmd(s: &str) -> Command {
    parse_line(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The commands of thread `t`: a merchant, then orders and a refund of its own.
fn thread_commands(t: usize, n: usize) -> Vec<Command> {
    let mut v = vec![cmd(&format!(
        r#"{{"type":"register_merchant","merchant":"m{t}","name":"M{t}","brand_tier":"ka","category":"food"}}"#
    ))];
    for i in 0..n {
        v.push(cmd(&format!(
            r#"{{"type":"order_paid","order":"o{t}-{i}","user":"u{i}","merchant":"m{t}","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":1000,"paid":900}}],"at":"2021-11-05T10:00:00+08:00"}}"#
        )));
        if i % 5 == 0 {
            // A duplicate: rejected, and it must say so after the commit like the rest.
            v.push(cmd(&format!(
                r#"{{"type":"order_paid","order":"o{t}-{i}","user":"u{i}","merchant":"m{t}","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":1000,"paid":900}}],"at":"2021-11-05T10:00:00+08:00"}}"#
            )));
        }
    }
    v
}

#[test]
fn many_writers_at_once_get_durable_receipts_with_dense_positions_and_read_their_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = NodeConfig { batch_commands: 16, ..NodeConfig::default() };
    let node = Arc::new(Node::start(open(tmp.path()), cfg).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let node = node.clone();
            std::thread::spawn(move || {
                let mut ranges = Vec::new();
                for c in thread_commands(t, 60) {
                    let dup = matches!(&c, Command::OrderPaid(o) if ranges.iter().any(|(_, _, id): &(u64, u64, String)| *id == o.order));
                    let id = match &c {
                        Command::OrderPaid(o) => o.order.clone(),
                        _ => String::new(),
                    };
                    match node.execute(c).unwrap() {
                        Outcome::Accepted { first_seq, last_seq, events } => {
                            assert!(!dup, "a duplicate order was accepted");
                            assert_eq!(events.len() as u64, last_seq + 1 - first_seq);
                            // The reply came after its commit …
                            assert!(node.durable_seq() >= last_seq);
                            // … and a read at that position sees the write.
                            let seen = node
                                .read(last_seq, Duration::from_secs(10), |e| {
                                    (e.state().events, e.state().orders.contains_key(id.as_str()))
                                })
                                .unwrap();
                            assert!(seen.0 >= last_seq);
                            assert!(id.is_empty() || seen.1, "read {id} at {last_seq} and did not see it");
                            ranges.push((first_seq, last_seq, id));
                        }
                        Outcome::Rejected(r) => {
                            assert!(dup, "rejected: {r}");
                            assert_eq!(r.code, Code::DuplicateOrder);
                        }
                    }
                }
                ranges
            })
        })
        .collect();
    let mut ranges: Vec<(u64, u64)> =
        threads.into_iter().flat_map(|t| t.join().unwrap()).map(|(a, b, _)| (a, b)).collect();
    ranges.sort();
    // Positions are dense: the commands' ranges tile the log from event 1.
    let mut next = 1;
    for (a, b) in &ranges {
        assert_eq!(*a, next, "a gap or an overlap at {a}");
        next = b + 1;
    }
    let node = Arc::into_inner(node).unwrap();
    let durable = node.durable_seq();
    assert_eq!(durable, next - 1);
    let live = node.read(durable, Duration::from_secs(10), |e| digest(e.state())).unwrap();
    let down = node.shutdown().unwrap();
    assert_eq!(down.durable_seq, durable);
    down.snapshot.unwrap();
    // The log replays to the live state, and the directory is free again.
    let (replayed, _) = dacu_log::rebuild_from_log(tmp.path()).unwrap();
    assert_eq!(digest(replayed.state()), live);
    let (served, rep) = dacu_log::open_read(tmp.path(), &Options::default()).unwrap();
    assert_eq!((digest(served.state()), rep.snapshot_seq), (live, Some(durable)));
}

#[test]
fn reads_see_whole_batches_only() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Arc::new(Node::start(open(tmp.path()), NodeConfig::default()).unwrap());
    let writer = {
        let node = node.clone();
        std::thread::spawn(move || {
            let mut ends = vec![0];
            for chunk in thread_commands(1, 400).chunks(7) {
                let (req, rx) = Request::with_channel(chunk.to_vec());
                node.submit(req).map_err(|(e, _)| e).unwrap();
                ends.push(rx.recv().unwrap().durable_seq);
            }
            ends
        })
    };
    let mut seen = Vec::new();
    while !writer.is_finished() {
        seen.push(node.read(0, Duration::from_secs(1), |e| e.state().events).unwrap());
    }
    let ends = writer.join().unwrap();
    // Every state a reader saw ended at a commit. Each reply carries the durable
    // position right after its batch's commit, so the replies name every commit's end.
    let last = *ends.last().unwrap();
    assert!(seen.len() > 1);
    for s in seen {
        assert!(ends.contains(&s), "a reader saw {s} events, which no commit ends at: {ends:?}");
    }
    assert_eq!(node.read(last, Duration::from_secs(10), |e| e.state().events).unwrap(), last);
}

#[test]
fn a_full_queue_is_backpressure_not_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = NodeConfig { queue_requests: 2, batch_commands: 1, ..NodeConfig::default() };
    let node = Node::start(open(tmp.path()), cfg).unwrap();
    // A reply that waits holds the committer, so the writer cannot hand over, so the
    // queue fills.
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let first = Request {
        commands: thread_commands(0, 0),
        stamp: dacu_node::Stamp::None,
        want_events: false,
        key: None,
        reply: Box::new(move |_| {
            let _ = release_rx.recv();
        }),
    };
    node.submit(first).map_err(|(e, _)| e).unwrap();
    let mut full = None;
    let mut receivers = Vec::new();
    for c in thread_commands(1, 20) {
        let (req, rx) = Request::with_channel(vec![c]);
        match node.try_submit(req) {
            Ok(()) => receivers.push(rx),
            Err((e, _)) => {
                full = Some(e);
                break;
            }
        }
    }
    assert_eq!(full, Some(SubmitError::Full { capacity: 2 }));
    release_tx.send(()).unwrap();
    for rx in receivers {
        assert!(rx.recv().unwrap().outcomes[0].is_accepted());
    }
    node.shutdown().unwrap();
}

#[test]
fn the_clock_stamps_monotonic_times_and_ticks_fire_due_timers() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Ts::parse("2021-11-05T10:00:00+08:00").unwrap()));
    let cfg = NodeConfig { time: Time::Clock(clock.clone()), ..NodeConfig::default() };
    let node = Node::start(open(tmp.path()), cfg).unwrap();
    for line in [
        r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ka","category":"food"}"#,
        r#"{"type":"register_merchant","merchant":"m2","name":"N","brand_tier":"ka","category":"food"}"#,
    ] {
        assert!(node.execute(cmd(line)).unwrap().is_accepted());
    }
    // A checkout, stamped now; its payment deadline is a timer.
    let at = |o: &Outcome| match o {
        Outcome::Accepted { events, .. } => serde_json::to_value(&events[events.len() - 1]).unwrap(),
        Outcome::Rejected(r) => panic!("{r}"),
    };
    let ck = cmd(
        r#"{"type":"checkout","id":"x-1","checkout":"ck1","user":"u1","channel":"shelf","lines":[{"merchant":"m1","sku":"a","qty":1,"price":25000}],"at":"2000-01-01T00:00:00Z"}"#,
    );
    let o = node.execute_stamped(ck).unwrap();
    let stamped = at(&o).to_string();
    assert!(stamped.contains("2021-11-05T10:00:00"), "{stamped}");
    // The clock goes back: the next stamp does not.
    clock.advance(-3_600_000);
    let o = node
        .execute_stamped(cmd(r#"{"type":"follow","id":"f-1","anchor":"a1","user":"u1","at":"2000-01-01T00:00:00Z"}"#))
        .unwrap();
    if let Outcome::Rejected(r) = &o {
        // No anchor a1: rejected, but the point is the time it would have had.
        assert_ne!(r.code, Code::OutsideFestival, "{r}");
    }
    // Past the payment deadline, the writer ticks on its own and the checkout is released.
    clock.advance(3_600_000 + 24 * 3_600_000);
    let released = (0..400).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        node.read(0, Duration::from_secs(1), |e| {
            let m = &e.state().market;
            m.checkout_ids
                .get("ck1")
                .is_some_and(|i| !matches!(m.checkouts[i as usize].state, dacu_core::market::CheckoutState::Reserved))
        })
        .unwrap()
    });
    assert!(released, "no tick released the checkout");
    // A node that takes its times from the commands stamps nothing.
    let down = node.shutdown().unwrap();
    down.snapshot.unwrap();
    let node = Node::start(DataDir::open(tmp.path(), Options::default()).unwrap().0, NodeConfig::default()).unwrap();
    let e = node.execute_stamped(cmd(r#"{"type":"tick","id":"t","at":"2021-11-06T00:00:00+08:00"}"#)).unwrap_err();
    assert_eq!(e, SubmitError::NoClock);
}

#[test]
fn shutdown_answers_everything_queued_and_snapshots() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(open(tmp.path()), NodeConfig::default()).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut sent = 0;
    for chunk in thread_commands(3, 300).chunks(10) {
        let tx = tx.clone();
        let req = Request {
            commands: chunk.to_vec(),
            stamp: dacu_node::Stamp::None,
            want_events: false,
            key: None,
            reply: Box::new(move |r| tx.send(r).unwrap()),
        };
        node.submit(req).map_err(|(e, _)| e).unwrap();
        sent += 1;
    }
    let down = node.shutdown().unwrap();
    drop(tx);
    let replies: Vec<_> = rx.iter().collect();
    assert_eq!(replies.len(), sent, "a queued request went unanswered");
    assert!(replies.iter().all(|r| r.durable_seq <= down.durable_seq));
    down.snapshot.unwrap();
    // The lock is released, and the snapshot holds everything.
    let (dir, rep) = DataDir::open(tmp.path(), Options::default()).unwrap();
    assert_eq!((rep.snapshot_seq, rep.events_replayed), (Some(down.durable_seq), 0));
    assert_eq!(dir.engine().state().events, down.durable_seq);
}

#[test]
fn a_failed_write_answers_unavailable_and_keeps_only_what_was_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let io = dacu_log::io::FaultyIo::default();
    let f = root().join("festivals/example-mini.toml");
    let opts = Options { io: Arc::new(io.clone()), ..Options::default() };
    let dir = DataDir::open_or_create(tmp.path(), Some(&f), opts).unwrap().0;
    let node = Node::start(dir, NodeConfig::default()).unwrap();
    let cmds = thread_commands(4, 10);
    assert!(node.execute(cmds[0].clone()).unwrap().is_accepted());
    let acked = node.durable_seq();
    io.faults.lock().unwrap().fail_next_sync = true;
    let o = node.execute(cmds[1].clone()).unwrap();
    assert!(matches!(&o, Outcome::Rejected(r) if r.code == Code::Unavailable), "{o:?}");
    let o = node.execute(cmds[2].clone()).unwrap();
    assert!(matches!(&o, Outcome::Rejected(r) if r.code == Code::Unavailable), "{o:?}");
    assert!(node.poisoned().is_some());
    assert!(node.shutdown().is_err());
    let (dir, _) = DataDir::open(tmp.path(), Options::default()).unwrap();
    assert_eq!(dir.engine().state().events, acked);
}
