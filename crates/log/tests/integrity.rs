//! Regressions of the store's integrity: each test is named after a hole it caught — a
//! flipped bit that deleted the log, a missing segment read as a shorter log, snapshots
//! served over logs they did not come from, a partly applied batch.

use dacu_core::digest::digest;
use dacu_core::{parse_line, Command};
use dacu_log::{chain, segment, snapshot, DataDir, Options, Recovery, StoreError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn festival() -> PathBuf {
    root().join("festivals/example-mini.toml")
}

fn commands() -> Vec<Command> {
    example("example-mini.jsonl")
}

fn example(file: &str) -> Vec<Command> {
    std::fs::read_to_string(root().join("examples").join(file))
        .unwrap()
        .lines()
        .filter_map(|l| parse_line(l).ok())
        .collect()
}

fn no_snapshots() -> Options {
    Options { snapshot_every: 0, ..Options::default() }
}

/// Creates a directory and commits `cmds` in batches of `batch`; returns the digest after
/// each commit (index 0: the empty state).
fn build(path: &Path, cmds: &[Command], batch: usize, opts: Options) -> Vec<String> {
    let (mut dir, _) = DataDir::open_or_create(path, Some(&festival()), opts).unwrap();
    let mut digests = vec![digest(dir.engine().state())];
    for chunk in cmds.chunks(batch) {
        for c in chunk {
            let _ = dir.execute(c);
        }
        dir.commit().unwrap();
        digests.push(digest(dir.engine().state()));
    }
    drop(dir);
    digests
}

/// Every file under `path` with its bytes: what a read-only command must leave as it is.
fn tree(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn seg_path(path: &Path, first: u64) -> PathBuf {
    path.join("log").join(segment::name(first))
}

fn read_served(path: &Path) -> Result<String, StoreError> {
    dacu_log::open_read(path, &Options::default()).map(|(e, _)| digest(e.state()))
}

#[test]
fn a_flipped_length_bit_in_the_first_batch_is_refused_not_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = commands();
    build(tmp.path(), &cmds, 12, no_snapshots());
    let seg = seg_path(tmp.path(), 1);
    let good = std::fs::read(&seg).unwrap();
    let len_field = segment::HEADER_LEN as usize;
    for i in [18, len_field, len_field + 1, len_field + 2, len_field + 3] {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[i] ^= 1 << bit;
            std::fs::write(&seg, &bad).unwrap();
            let before = tree(tmp.path());
            for writer in [false, true] {
                let err = if writer {
                    DataDir::open(tmp.path(), no_snapshots()).err().map(|e| e.to_string())
                } else {
                    read_served(tmp.path()).err().map(|e| e.to_string())
                };
                let msg = err.unwrap_or_else(|| panic!("byte {i} bit {bit}: opened (writer {writer})"));
                assert!(
                    msg.contains("corrupt log at byte offset") && msg.contains(&seg.display().to_string()),
                    "{msg}"
                );
                assert_eq!(tree(tmp.path()), before, "byte {i} bit {bit}: the refusal changed the directory");
            }
        }
    }
}

#[test]
fn a_missing_or_out_of_order_segment_is_corruption_not_a_shorter_log() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options { segment_bytes: 400, ..no_snapshots() };
    build(tmp.path(), &commands(), 4, opts);
    let segs = segment::list(&tmp.path().join("log")).unwrap();
    assert!(segs.len() >= 4, "{segs:?}");
    for victim in [0, 1, segs.len() - 1] {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), copy.path());
        let gone = copy.path().join("log").join(segs[victim].1.file_name().unwrap());
        std::fs::remove_file(&gone).unwrap();
        if victim == segs.len() - 1 {
            // Losing the last segment whole is not detectable from the log alone; a
            // snapshot is what proves it (the next test).
            continue;
        }
        let err = read_served(copy.path()).unwrap_err().to_string();
        assert!(err.contains("missing"), "victim {victim}: {err}");
        assert!(DataDir::open(copy.path(), no_snapshots()).is_err());
        assert!(dacu_log::rebuild_from_log(copy.path()).is_err());
    }
    // A segment renamed out of order (its header says otherwise) is refused too.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(tmp.path(), copy.path());
    let (first, p) = &segs[1];
    std::fs::rename(p.clone(), copy.path().join("log").join(segment::name(first + 1))).unwrap();
    std::fs::remove_file(copy.path().join("log").join(p.file_name().unwrap())).ok();
    assert!(read_served(copy.path()).is_err());
}

#[test]
fn a_damaged_last_record_does_not_drop_a_batch_a_snapshot_proves_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let digests = build(tmp.path(), &commands(), 10, no_snapshots());
    // A clean close: the snapshot holds every event.
    let (dir, _) = DataDir::open(tmp.path(), no_snapshots()).unwrap();
    dir.close().unwrap();
    let seg = seg_path(tmp.path(), 1);
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1; // inside the final commit record's chain value
    std::fs::write(&seg, &bytes).unwrap();
    let before = tree(tmp.path());
    let err = read_served(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("shows events through 32 were committed"), "{err}");
    assert!(DataDir::open(tmp.path(), no_snapshots()).is_err());
    assert_eq!(tree(tmp.path()), before);
    // The explicit mode drops the damaged batch, and the snapshot that covered it.
    let opts = Options { recovery: Recovery::TruncateCorrupt, ..no_snapshots() };
    let (dir, rep) = DataDir::open(tmp.path(), opts).unwrap();
    assert_eq!(digest(dir.engine().state()), digests[digests.len() - 2]);
    assert!(rep.warnings.iter().any(|w| w.starts_with("removed") && w.ends_with(".snap")), "{:?}", rep.warnings);
    drop(dir);
    assert!(snapshot::list(tmp.path()).unwrap().is_empty());
}

#[test]
fn truncate_corrupt_never_serves_part_of_a_batch() {
    // A batch whose second event is well framed but cannot be applied: the CRCs are
    // recomputed, so only the engine can tell.
    let tmp = tempfile::tempdir().unwrap();
    let cmds = commands();
    let digests = build(tmp.path(), &cmds, 10, no_snapshots());
    let seg = seg_path(tmp.path(), 1);
    let bytes = std::fs::read(&seg).unwrap();
    let rewritten = rewrite_event(&bytes, 12, |ev| {
        // An order for a merchant the log never registered.
        serde_json::from_value(serde_json::json!({"provider_bound": {"provider": "nobody", "merchant": "m1", "at": "2021-11-01T09:00:00+08:00"}})).unwrap_or(ev)
    });
    std::fs::write(&seg, &rewritten).unwrap();
    assert!(matches!(read_served(tmp.path()), Err(StoreError::Corrupt { .. })));
    let opts = Options { recovery: Recovery::TruncateCorrupt, ..no_snapshots() };
    let (engine, _) = dacu_log::open_read(tmp.path(), &opts).unwrap();
    assert_eq!(digest(engine.state()), digests[1], "the reader served part of the second batch");
    let (mut dir, _) = DataDir::open(tmp.path(), opts).unwrap();
    assert_eq!(digest(dir.engine().state()), digests[1], "the writer kept part of the second batch");
    // Writing goes on from the cut, and the directory reopens strict.
    dir.execute(&cmds[10]).unwrap();
    dir.commit().unwrap();
    let after = digest(dir.engine().state());
    drop(dir);
    assert_eq!(read_served(tmp.path()).unwrap(), after);
}

/// Re-frames the log with event `seq` replaced, recomputing every CRC and the chain.
fn rewrite_event(bytes: &[u8], seq: u64, f: impl Fn(dacu_core::Event) -> dacu_core::Event) -> Vec<u8> {
    let h = segment::parse_header(bytes, 1).unwrap();
    let mut batches: Vec<Vec<Vec<u8>>> = Vec::new();
    segment::scan(bytes, &h, h.chain.unwrap(), |b| {
        batches.push(
            b.records
                .iter()
                .map(|(s, p)| {
                    if *s == seq {
                        let mut out = Vec::new();
                        let ctx = dacu_log::load_festival(&festival()).unwrap().0.format1_context();
                        dacu_log::codec::encode(&f(dacu_log::codec::decode(p, &ctx).unwrap()), &mut out);
                        out
                    } else {
                        p.to_vec()
                    }
                })
                .collect(),
        );
        Ok(())
    });
    let mut c = h.chain.unwrap();
    let mut out = segment::header(1, &h.log_id, &c).to_vec();
    let mut s = 1;
    for b in batches {
        let mut hasher = chain::Hasher::new(&c);
        let mut last = (0, 0);
        for p in b {
            last = segment::push_record(&mut out, s, &p);
            hasher.add(s, last.1);
            s += 1;
        }
        c = hasher.finish();
        segment::seal(&mut out, last.0, last.1, &c);
    }
    out
}

#[test]
fn a_snapshot_from_another_directory_is_skipped_and_the_log_is_not_blamed() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cmds = commands();
    let da = build(a.path(), &cmds[..20], 10, no_snapshots());
    build(b.path(), &cmds, 10, no_snapshots());
    let (dir, _) = DataDir::open(b.path(), no_snapshots()).unwrap();
    dir.close().unwrap();
    let (_, theirs) = &snapshot::list(b.path()).unwrap()[0];
    std::fs::create_dir_all(snapshot::dir(a.path())).unwrap();
    std::fs::copy(theirs, snapshot::dir(a.path()).join(theirs.file_name().unwrap())).unwrap();
    let (engine, rep) = dacu_log::open_read(a.path(), &Options::default()).unwrap();
    assert_eq!(digest(engine.state()), *da.last().unwrap());
    assert!(rep.warnings.iter().any(|w| w.contains("taken from another log")), "{:?}", rep.warnings);
    assert!(!rep.warnings.iter().any(|w| w.contains("corrupt")), "{:?}", rep.warnings);
    // A writer works on, and the foreign snapshot never replaces the directory's own state.
    let (mut dir, _) = DataDir::open(a.path(), Options::default()).unwrap();
    dir.execute(&cmds[20]).unwrap();
    dir.close().unwrap();
    let (engine, _) = dacu_log::rebuild_from_log(a.path()).unwrap();
    assert_eq!(read_served(a.path()).unwrap(), digest(engine.state()));
}

#[test]
fn a_snapshot_of_the_same_log_before_it_diverged_is_not_served() {
    // Two copies of one directory go separate ways; a snapshot of one at a position
    // the other also has (same log id, same length, different events) must not fit.
    let a = tempfile::tempdir().unwrap();
    let cmds = commands();
    build(a.path(), &cmds[..10], 10, no_snapshots());
    let b = tempfile::tempdir().unwrap();
    copy_dir(a.path(), b.path());
    for (dir, range) in [(a.path(), 10..20), (b.path(), 20..30)] {
        let (mut d, _) = DataDir::open(dir, no_snapshots()).unwrap();
        for c in &cmds[range] {
            let _ = d.execute(c);
        }
        d.close().unwrap();
    }
    let (seq_a, _) = snapshot::list(a.path()).unwrap()[0].clone();
    let (seq_b, theirs) = snapshot::list(b.path()).unwrap()[0].clone();
    let mine = tempfile::tempdir().unwrap();
    copy_dir(a.path(), mine.path());
    std::fs::remove_dir_all(snapshot::dir(mine.path())).unwrap();
    std::fs::create_dir_all(snapshot::dir(mine.path())).unwrap();
    std::fs::copy(&theirs, snapshot::dir(mine.path()).join(theirs.file_name().unwrap())).unwrap();
    let got = dacu_log::open_read(mine.path(), &Options::default());
    let (engine, _) = dacu_log::rebuild_from_log(a.path()).unwrap();
    match (seq_b <= seq_a, got) {
        (true, Ok((e, rep))) => {
            assert_eq!(digest(e.state()), digest(engine.state()));
            assert!(rep.warnings.iter().any(|w| w.contains("does not match this log")), "{:?}", rep.warnings);
        }
        // The other copy's snapshot claims more events than this log has: refused, as
        // the log may have lost them, and the message says which snapshot says so.
        (false, Err(e)) => assert!(e.to_string().contains("another copy of this directory"), "{e}"),
        (_, got) => panic!("seq a {seq_a} b {seq_b}: {:?}", got.map(|(_, r)| r.warnings)),
    }
}

#[test]
fn a_snapshot_with_a_valid_checksum_but_inconsistent_content_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = commands();
    let digests = build(tmp.path(), &cmds, 10, no_snapshots());
    let (mut dir, _) = DataDir::open(tmp.path(), no_snapshots()).unwrap();
    dir.snapshot().unwrap();
    drop(dir);
    let (_, path) = snapshot::list(tmp.path()).unwrap()[0].clone();
    // Re-encode the snapshot with an order pointing at a user that does not exist, its
    // checksums and chain intact: it used to panic in `digest` and in `ingest`.
    let meta = snapshot::read_meta(&path).unwrap();
    let mut st = snapshot::read_state(&meta).unwrap();
    st.orders.values_mut().next().unwrap().user = 1_000_000;
    std::fs::remove_file(&path).unwrap();
    snapshot::write(&dacu_log::io::RealIo, tmp.path(), &st, &meta.log_id, &meta.chain).unwrap();
    let (engine, rep) = dacu_log::open_read(tmp.path(), &Options::default()).unwrap();
    assert_eq!(rep.snapshot_seq, None);
    assert!(rep.warnings.iter().any(|w| w.contains("inconsistent state")), "{:?}", rep.warnings);
    assert_eq!(digest(engine.state()), *digests.last().unwrap());
    let (mut dir, _) = DataDir::open(tmp.path(), Options::default()).unwrap();
    dir.execute(&parse_line(r#"{"type":"register_provider","provider":"p9","name":"Late"}"#).unwrap()).unwrap();
    dir.close().unwrap();
}

/// Builds a directory from `cmds` with one snapshot, re-encodes that snapshot after
/// `spoil` (its checksums and chain intact), and checks that an open skips it — its
/// checks refuse it, saying `why` — replays the log instead, and serves the right state.
fn inconsistent_snapshot_is_skipped(cmds: &[Command], why: &str, spoil: impl FnOnce(&mut dacu_core::state::State)) {
    let tmp = tempfile::tempdir().unwrap();
    let digests = build(tmp.path(), cmds, 10, no_snapshots());
    let (mut dir, _) = DataDir::open(tmp.path(), no_snapshots()).unwrap();
    dir.snapshot().unwrap();
    drop(dir);
    let (_, path) = snapshot::list(tmp.path()).unwrap()[0].clone();
    let meta = snapshot::read_meta(&path).unwrap();
    let mut st = snapshot::read_state(&meta).unwrap();
    spoil(&mut st);
    std::fs::remove_file(&path).unwrap();
    snapshot::write(&dacu_log::io::RealIo, tmp.path(), &st, &meta.log_id, &meta.chain).unwrap();
    let (engine, rep) = dacu_log::open_read(tmp.path(), &Options::default()).unwrap();
    assert_eq!(rep.snapshot_seq, None, "the snapshot was used");
    let refused = |w: &String| w.contains("inconsistent state: ") && w.contains(why);
    assert!(rep.warnings.iter().any(refused), "{:?}", rep.warnings);
    assert_eq!(digest(engine.state()), *digests.last().unwrap());
    // A writer opens it too, and goes on.
    let (mut dir, _) = DataDir::open(tmp.path(), Options::default()).unwrap();
    dir.execute(&parse_line(r#"{"type":"register_provider","provider":"p9","name":"Late"}"#).unwrap()).unwrap();
    dir.close().unwrap();
}

#[test]
fn a_snapshot_whose_wallet_names_a_missing_coupon_is_skipped() {
    // A wallet's coupon past the coupon table: `digest`, the wallet view and a quote index
    // the table with it.
    inconsistent_snapshot_is_skipped(&example("marketing-mini.jsonl"), "coupon index", |st| {
        let w = st.market.wallets.values_mut().next().expect("a wallet");
        w.coupons[0].coupon = st.market.coupons.len() as u32;
    });
}

#[test]
fn a_snapshot_whose_contest_board_names_a_missing_participant_is_skipped() {
    // A board record of an anchor that does not exist: loading rebuilds the ordered
    // boards from the records by their participants' ids, and panicked there (the
    // last-resort catch refused it); the checks now name it.
    inconsistent_snapshot_is_skipped(&example("contests-mini.jsonl"), "anchor index", |st| {
        let anchors = st.anchors.len() as u32;
        let t = st.contests.races.iter_mut().flat_map(|r| r.boards.values_mut()).next().expect("a board");
        let (&p, _) = t.recs.iter().next().expect("a record");
        let rec = t.recs.remove(&p).unwrap();
        t.recs.insert(anchors, rec);
    });
}

#[test]
fn a_command_whose_event_the_log_would_refuse_is_rejected_whole() {
    // Regression: the writer used to write records the reader refuses (a 24.6 MB
    // settlement), bricking the directory. The limit is enforced when the event is
    // encoded: a command at the limit is accepted and reads back; one over it is rejected
    // with `limit_exceeded` and changes nothing.
    let register =
        |name: &str| parse_line(&format!(r#"{{"type":"register_provider","provider":"p1","name":"{name}"}}"#)).unwrap();
    let event_bytes = |name: &str| {
        let mut out = Vec::new();
        dacu_log::codec::encode(
            &dacu_core::Event::ProviderRegistered { provider: "p1".into(), name: name.into() },
            &mut out,
        );
        out.len()
    };
    let name = "n".repeat(300);
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options { max_event_bytes: event_bytes(&name) - 1, ..no_snapshots() };
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&festival()), opts).unwrap();
    let before = digest(dir.engine().state());
    let r = dir.execute(&register(&name)).unwrap_err();
    assert_eq!(r.code, dacu_core::Code::LimitExceeded, "{r}");
    assert_eq!(digest(dir.engine().state()), before);
    assert!(dir.commit().unwrap().is_none(), "nothing was pending");
    drop(dir);
    let opts = Options { max_event_bytes: event_bytes(&name), ..no_snapshots() };
    let (mut dir, _) = DataDir::open(tmp.path(), opts).unwrap();
    dir.execute(&register(&name)).unwrap();
    let c = dir.commit().unwrap().unwrap();
    assert_eq!((c.first_seq, c.last_seq), (1, 1));
    let after = digest(dir.engine().state());
    drop(dir);
    assert_eq!(read_served(tmp.path()).unwrap(), after);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
