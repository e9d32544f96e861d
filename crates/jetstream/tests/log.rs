//! The JetStream log against a real server of the test's own: batches come back byte for
//! byte and rebuild the same state; a writer that has been overtaken is refused on its
//! first publish and writes nothing; torn batches are dropped; a restarted server keeps
//! every acknowledged batch.

mod common;
use common::*;
use dacu_core::{digest, Command, Event};
use dacu_jetstream::{JetStreamLog, StreamOptions};
use dacu_log::{Batcher, EventLog, StoreError};

fn festival() -> String {
    std::fs::read_to_string(root().join("festivals/kuaishou-116-2021.toml")).unwrap()
}

/// A simulated festival's commands, in order.
fn commands(n: u64, seed: u64) -> Vec<Command> {
    let f = dacu_core::festival::parse(&festival()).unwrap();
    let mut out = Vec::new();
    dacu_sim::simulate(&f, dacu_sim::Scale::Commands(n), seed, &mut out).unwrap();
    String::from_utf8(out).unwrap().lines().filter_map(|l| dacu_core::command::parse_line(l).ok()).collect()
}

/// Executes `cmds` in batches of `per` commands, appending each batch to `log`.
fn run(log: &mut JetStreamLog, engine: &mut dacu_core::Engine, cmds: &[Command], per: usize) -> u64 {
    let mut batcher = Batcher::new(log.durable_seq() + 1, log.chain(), dacu_log::segment::MAX_RECORD_BYTES as usize);
    let mut events: Vec<Event> = Vec::new();
    let mut batches = 0;
    for part in cmds.chunks(per) {
        for c in part {
            let _ = dacu_log::execute(engine, &mut batcher, c, &mut events);
        }
        if let Some(b) = batcher.seal() {
            let done = log.append(&b).unwrap();
            assert_eq!((done.first_seq, done.last_seq), (b.first_seq, b.last_seq));
            batches += 1;
        }
    }
    batches
}

#[test]
fn batches_come_back_and_rebuild_the_same_state_whatever_the_chunking() {
    let nats = Nats::start();
    let url = nats.url("T1");
    let opts = StreamOptions::default();
    let src = festival();
    let mut o = JetStreamLog::open(&url, &opts, Some(&src), None).unwrap();
    assert_eq!(o.recovered.last_seq, 0);
    let cmds = commands(6_000, 7);
    let half = cmds.len() / 2;
    let mut engine = o.engine;
    // Whole batches in one message, then batches cut into chunks of 1,000 bytes.
    assert!(run(&mut o.log, &mut engine, &cmds[..half], 400) > 3);
    o.log.set_chunk_bytes(1_000);
    let before = o.log.stream_last();
    let batches = run(&mut o.log, &mut engine, &cmds[half..], 400);
    assert!(o.log.stream_last() - before > 2 * batches, "batches were cut into several chunks");
    let want = digest::digest(engine.state());
    let (events, chain) = (o.log.durable_seq(), o.log.chain());
    assert!(events > 5_000, "{events}");
    drop(o.log);

    // A new node with nothing but the address: the festival and every batch from the stream.
    let again = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(again.festival, src);
    assert_eq!(again.recovered.last_seq, events);
    assert!(again.recovered.torn.is_empty());
    assert_eq!(digest::digest(again.engine.state()), want);
    assert_eq!(again.log.chain(), chain, "the chain the writer ended with");
}

#[test]
fn a_writer_that_was_overtaken_is_refused_and_writes_nothing() {
    let nats = Nats::start();
    let url = nats.url("T2");
    let opts = StreamOptions::default();
    let cmds = commands(2_000, 3);
    let mut a = JetStreamLog::open(&url, &opts, Some(&festival()), None).unwrap();
    let mut ea = a.engine;
    run(&mut a.log, &mut ea, &cmds[..500], 250);
    // B takes over: it reads the stream and appends.
    let mut b = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(b.recovered.last_seq, a.log.durable_seq());
    let mut eb = b.engine;
    run(&mut b.log, &mut eb, &cmds[500..1000], 250);
    let end = b.log.stream_last();
    // A, a zombie that still thinks it leads, tries once more.
    let mut batcher = Batcher::new(a.log.durable_seq() + 1, a.log.chain(), 1 << 20);
    let mut events = Vec::new();
    for c in &cmds[500..600] {
        let _ = dacu_log::execute(&mut ea, &mut batcher, c, &mut events);
    }
    let batch = batcher.seal().unwrap();
    match a.log.append(&batch) {
        Err(StoreError::Overtaken { .. }) => {}
        other => panic!("the zombie's append was not refused: {other:?}"),
    }
    assert!(matches!(a.log.append(&batch), Err(StoreError::Poisoned(_))), "it accepts nothing more");
    // Nothing of A's reached the stream: a reader sees exactly B's log.
    let c = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(c.recovered.stream_last, end);
    assert_eq!(c.recovered.last_seq, b.log.durable_seq());
    assert_eq!(digest::digest(c.engine.state()), digest::digest(eb.state()));
}

#[test]
fn a_torn_batch_is_dropped_and_the_next_writer_continues_after_it() {
    let nats = Nats::start();
    let url = nats.url("T3");
    let opts = StreamOptions::default();
    let cmds = commands(2_000, 5);
    let mut a = JetStreamLog::open(&url, &opts, Some(&festival()), None).unwrap();
    let mut ea = a.engine;
    run(&mut a.log, &mut ea, &cmds[..400], 200);
    let durable = a.log.durable_seq();
    let good = digest::digest(ea.state());
    // A dies after the first chunk of a batch: publish that chunk by hand.
    let mut batcher = Batcher::new(durable + 1, a.log.chain(), 1 << 20);
    let mut events = Vec::new();
    for c in &cmds[400..600] {
        let _ = dacu_log::execute(&mut ea, &mut batcher, c, &mut events);
    }
    let batch = batcher.seal().unwrap();
    a.log.publish_chunk_for_test(&batch, 0, 3).unwrap();

    let mut b = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(b.recovered.last_seq, durable, "the torn batch is not applied");
    assert_eq!(b.recovered.torn.len(), 1);
    assert_eq!(
        (b.recovered.torn[0].first_seq, b.recovered.torn[0].chunks, b.recovered.torn[0].of),
        (durable + 1, 1, 3)
    );
    assert_eq!(digest::digest(b.engine.state()), good);
    let mut eb = b.engine;
    run(&mut b.log, &mut eb, &cmds[400..800], 200);
    let c = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(c.recovered.last_seq, b.log.durable_seq());
    assert_eq!(c.recovered.torn.len(), 1, "the torn chunks stay in the stream, skipped");
    assert_eq!(digest::digest(c.engine.state()), digest::digest(eb.state()));
}

#[test]
fn acknowledged_batches_survive_a_server_kill_and_restart() {
    let nats = Nats::start();
    let url = nats.url("T4");
    let opts = StreamOptions::default();
    let cmds = commands(2_000, 11);
    let mut a = JetStreamLog::open(&url, &opts, Some(&festival()), None).unwrap();
    let mut ea = a.engine;
    run(&mut a.log, &mut ea, &cmds, 300);
    let (events, want) = (a.log.durable_seq(), digest::digest(ea.state()));
    drop(a.log);
    let (dir, port) = nats.kill();
    let nats = Nats::start_in(dir, port);
    let b = JetStreamLog::open(&nats.url("T4"), &opts, None, None).unwrap();
    assert_eq!(b.recovered.last_seq, events);
    assert_eq!(digest::digest(b.engine.state()), want);
}

#[test]
fn a_stream_with_another_festival_or_none_is_refused_with_a_reason() {
    let nats = Nats::start();
    let url = nats.url("T5");
    let opts = StreamOptions::default();
    let e = JetStreamLog::open(&url, &opts, None, None).err().unwrap().to_string();
    assert!(e.contains("--festival FILE"), "{e}");
    JetStreamLog::open(&url, &opts, Some(&festival()), None).unwrap();
    let other = std::fs::read_to_string(root().join("festivals/example-mini.toml")).unwrap();
    let e = JetStreamLog::open(&url, &opts, Some(&other), None).err().unwrap().to_string();
    assert!(e.contains("different festival"), "{e}");
    let e = JetStreamLog::open(&nats.url("T6"), &opts, Some("not = [toml"), None).err().unwrap().to_string();
    assert!(e.contains("not valid"), "{e}");
}

#[test]
fn a_snapshot_in_the_bucket_shortens_recovery_and_one_bound_elsewhere_is_skipped() {
    use std::sync::atomic::Ordering::SeqCst;
    let nats = Nats::start();
    let url = nats.url("T7");
    let opts = StreamOptions::default();
    let cmds = commands(3_000, 13);
    let dir1 = tempfile::tempdir().unwrap();
    let mut o = JetStreamLog::open(&url, &opts, Some(&festival()), Some(dir1.path())).unwrap();
    let mut engine = o.engine;
    run(&mut o.log, &mut engine, &cmds[..1_500], 300);
    // As the read view does: the position of the last whole batch, then the state after it.
    o.position.store(o.log.stream_last(), SeqCst);
    dacu_log::SnapshotStore::save(o.snapshots.as_ref().unwrap(), engine.state(), &o.log.chain()).unwrap();
    let at = o.log.durable_seq();
    run(&mut o.log, &mut engine, &cmds[1_500..], 300);
    let (events, want) = (o.log.durable_seq(), digest::digest(engine.state()));
    drop(o.log);

    // A new node: the snapshot from the bucket, then only the batches after it.
    let dir2 = tempfile::tempdir().unwrap();
    let r = JetStreamLog::open(&url, &opts, None, Some(dir2.path())).unwrap();
    assert_eq!(r.snapshot_seq, Some(at));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.recovered.last_seq, events);
    assert_eq!(digest::digest(r.engine.state()), want);
    let full = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(full.snapshot_seq, None);
    assert_eq!(digest::digest(full.engine.state()), want, "the same state as a replay of the whole stream");

    // A newer snapshot saved against a position that is not its batch's end is passed over.
    r.position.store(2, SeqCst);
    dacu_log::SnapshotStore::save(r.snapshots.as_ref().unwrap(), r.engine.state(), &r.log.chain()).unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    let again = JetStreamLog::open(&url, &opts, None, Some(dir3.path())).unwrap();
    assert_eq!(again.snapshot_seq, Some(at), "the older, good snapshot");
    assert_eq!(again.warnings.len(), 1, "{:?}", again.warnings);
    assert!(again.warnings[0].contains("is not the end of event"), "{}", again.warnings[0]);
    assert_eq!(digest::digest(again.engine.state()), want);
}

#[test]
fn a_takeover_marker_fences_the_old_writer_before_it_appends_again() {
    let nats = Nats::start();
    let url = nats.url("T7");
    let opts = StreamOptions::default();
    let cmds = commands(2_000, 5);
    let mut a = JetStreamLog::open(&url, &opts, Some(&festival()), None).unwrap();
    let mut ea = a.engine;
    run(&mut a.log, &mut ea, &cmds[..400], 200);
    // A follower reads to the end, but A appends once more before the claim.
    let b = JetStreamLog::open(&url, &opts, None, None).unwrap();
    let position = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut follow = dacu_jetstream::Follow::open(&url, &opts, b.log.meta().log_id, &b.recovered, position).unwrap();
    run(&mut a.log, &mut ea, &cmds[400..600], 200);
    let mut eb = b.engine;
    let mut apply = |records: &[(u64, &[u8])], _| -> Result<(), String> {
        let ctx = eb.festival().format1_context();
        for (_, p) in records {
            eb.apply(&dacu_log::codec::decode(p, &ctx).unwrap()).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    assert_eq!(follow.claim_end("b").unwrap(), None, "the stream grew since the follower read it");
    follow.read(u64::MAX, &mut apply).unwrap();
    let marker = follow.claim_end("b").unwrap().expect("at the end now");
    assert_eq!(follow.next_seq() - 1, a.log.durable_seq(), "the follower holds every batch");
    // A has no traffic to notice anything by; its next append is refused all the same.
    let mut batcher = Batcher::new(a.log.durable_seq() + 1, a.log.chain(), 1 << 20);
    let mut events = Vec::new();
    for c in &cmds[600..700] {
        let _ = dacu_log::execute(&mut ea, &mut batcher, c, &mut events);
    }
    assert!(matches!(a.log.append(&batcher.seal().unwrap()), Err(StoreError::Overtaken { .. })));
    // The new writer resumes at the marker without reading the stream again.
    let mut log = JetStreamLog::resume(&url, &opts, marker, follow.next_seq() - 1, follow.chain()).unwrap();
    run(&mut log, &mut eb, &cmds[600..1_000], 200);
    let again = JetStreamLog::open(&url, &opts, None, None).unwrap();
    assert_eq!(again.recovered.last_seq, log.durable_seq());
    assert_eq!(digest::digest(again.engine.state()), digest::digest(eb.state()));
    assert_eq!(again.log.stream_last(), log.stream_last(), "a writer opened now fences on the true end");
}
