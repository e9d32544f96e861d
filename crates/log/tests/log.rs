//! The log on disk: the golden log, recovery from torn writes and corruption, snapshots,
//! segment rotation, and injected faults (short writes, fsync errors, crashes).

use dacu_core::digest::digest;
use dacu_core::{parse_line, Engine, Event};
use dacu_log::io::FaultyIo;
use dacu_log::{codec, segment, DataDir, Options, Recovery, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mini_festival() -> PathBuf {
    root().join("festivals/example-mini.toml")
}

fn mini_commands() -> Vec<dacu_core::Command> {
    std::fs::read_to_string(root().join("examples/example-mini.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| parse_line(l).ok())
        .collect()
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

fn only_segment(data: &Path) -> PathBuf {
    let segs = segment::list(&data.join("log")).unwrap();
    assert_eq!(segs.len(), 1, "{segs:?}");
    segs[0].1.clone()
}

/// Byte offsets of the records in a segment.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = segment::HEADER_LEN as usize;
    while pos < bytes.len() {
        offsets.push(pos);
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let commit = bytes[pos + 12] & segment::FLAG_COMMIT != 0;
        pos += segment::RECORD_HEADER_LEN + len + if commit { dacu_log::chain::LEN } else { 0 };
    }
    offsets
}

/// Executes commands, committing every `batch`; returns the digest after each commit.
fn run(dir: &mut DataDir, cmds: &[dacu_core::Command], batch: usize) -> Vec<String> {
    let mut digests = Vec::new();
    for chunk in cmds.chunks(batch) {
        for c in chunk {
            let _ = dir.execute(c);
        }
        dir.commit().unwrap();
        digests.push(digest(dir.engine().state()));
    }
    digests
}

/// The state after applying accepted commands to a fresh engine, committed or not.
fn digest_of(cmds: &[dacu_core::Command]) -> String {
    let f = dacu_log::load_festival(&mini_festival()).unwrap().0;
    let mut e = Engine::new(Arc::new(f));
    for c in cmds {
        let _ = e.execute(c, &mut Vec::new());
    }
    digest(e.state())
}

#[test]
fn the_golden_log_decodes_forever() {
    // Written by this release's first log format from examples/example-mini.jsonl. Never
    // regenerate it: a build that cannot read it cannot read its users' data.
    let golden = root().join("crates/log/tests/golden/v1");
    let seg = std::fs::read(golden.join("log/00000000000000000001.log")).unwrap();
    let mut events = Vec::new();
    let header = segment::parse_header(&seg, 1).unwrap();
    assert_eq!(header.version, 1);
    let ctx = dacu_log::load_festival(&golden.join("festival.toml")).unwrap().0.format1_context();
    let scan = segment::scan(&seg, &header, dacu_log::chain::genesis(&[0; 16]), |batch| {
        for (_, payload) in batch.records {
            assert_eq!(payload[0], 1, "event format 1");
            events.push(codec::decode(payload, &ctx)?);
        }
        Ok(())
    });
    assert_eq!(scan.end, segment::End::Clean);
    // events.json is format 1's JSON: the frozen events, converted as the codec converts.
    let expected: Vec<dacu_core::event::v1::Event> =
        serde_json::from_str(&std::fs::read_to_string(golden.join("events.json")).unwrap()).unwrap();
    let expected: Vec<Event> = expected.into_iter().map(|e| e.upgrade(&ctx).unwrap()).collect();
    assert_eq!(events, expected);
    // And the directory opens and serves the state those events make.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&golden, tmp.path());
    let (engine, rep) = dacu_log::open_read(tmp.path(), &Options::default()).unwrap();
    assert_eq!(rep.events_replayed, 32);
    assert_eq!(engine.state().merchant("m1").unwrap().stats.gmv().0, 17000);
    // A writer continues a format 1 log in a new format 2 segment; both read back.
    let before = digest(engine.state());
    // The digest of these events as every release has computed it (the example workload
    // of crates/core/tests/replay_digests.rs reaches it too).
    assert_eq!(before, "fba3690351f4e44699c864b7955bc48dac40dc0811efd1f3394d9714e3fab17e");
    let (mut dir, _) = DataDir::open(tmp.path(), Options::default()).unwrap();
    let more = parse_line(r#"{"type":"register_provider","provider":"p9","name":"Late"}"#).unwrap();
    dir.execute(&more).unwrap();
    dir.commit().unwrap();
    let after = digest(dir.engine().state());
    assert_ne!(before, after);
    dir.close().unwrap();
    let segs = segment::list(&tmp.path().join("log")).unwrap();
    assert_eq!(segs.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 33]);
    let (rebuilt, _) = dacu_log::rebuild_from_log(tmp.path()).unwrap();
    assert_eq!(digest(rebuilt.state()), after);
    let (served, rep) = dacu_log::open_read(tmp.path(), &Options::default()).unwrap();
    assert_eq!((rep.snapshot_seq, digest(served.state())), (Some(33), after));
}

#[test]
fn a_torn_final_batch_is_cut_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = mini_commands();
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&mini_festival()), Options::default()).unwrap();
    let digests = run(&mut dir, &cmds, 10);
    drop(dir);
    let seg = only_segment(tmp.path());
    let full = std::fs::metadata(&seg).unwrap().len();
    // Cut 5 bytes off: the last batch is torn and goes; the one before stays.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(full - 5).unwrap();
    let (dir, rep) = DataDir::open(tmp.path(), Options { snapshot_every: 0, ..Options::default() }).unwrap();
    assert!(rep.truncated_bytes > 0);
    assert!(rep.warnings[0].contains("torn write"), "{:?}", rep.warnings);
    assert_eq!(digest(dir.engine().state()), digests[digests.len() - 2]);
    drop(dir);
    // The cut is durable: the next open finds a clean log.
    let (_, rep) = DataDir::open(tmp.path(), Options::default()).unwrap();
    assert_eq!(rep.truncated_bytes, 0);
}

#[test]
fn corruption_before_the_tail_names_the_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = mini_commands();
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&mini_festival()), Options::default()).unwrap();
    let digests = run(&mut dir, &cmds, 10);
    drop(dir);
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    // Flip a payload byte of the first record of the second batch.
    let victim = record_offsets(&bytes)[10];
    bytes[victim + segment::RECORD_HEADER_LEN + 1] ^= 0x40;
    std::fs::write(&seg, &bytes).unwrap();

    match DataDir::open(tmp.path(), Options::default()) {
        Err(StoreError::Corrupt { path, offset, reason }) => {
            assert_eq!(path, seg);
            assert_eq!(offset, victim as u64);
            assert!(reason.starts_with("checksum mismatch, with a committed record after it"), "{reason}");
            let msg = StoreError::Corrupt { path, offset, reason }.to_string();
            assert!(
                msg.contains(&format!("byte offset {victim}")) && msg.contains("--recovery truncate-corrupt"),
                "{msg}"
            );
        }
        Err(other) => panic!("expected corruption, got {other}"),
        Ok(_) => panic!("a corrupt log opened"),
    }
    // Nothing was changed by the refusal.
    assert_eq!(std::fs::read(&seg).unwrap(), bytes);
    // The explicit mode keeps the first batch and drops the rest.
    let opts = Options { recovery: Recovery::TruncateCorrupt, snapshot_every: 0, ..Options::default() };
    let (dir, rep) = DataDir::open(tmp.path(), opts).unwrap();
    assert!(rep.warnings.iter().any(|w| w.contains("on is dropped")), "{:?}", rep.warnings);
    assert_eq!(digest(dir.engine().state()), digests[0]);
}

#[test]
fn a_bad_snapshot_is_skipped_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = mini_commands();
    let opts = Options { snapshot_every: 10, ..Options::default() };
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&mini_festival()), opts.clone()).unwrap();
    let digests = run(&mut dir, &cmds, 10);
    dir.close().unwrap();
    let snaps = dacu_log::snapshot::list(tmp.path()).unwrap();
    assert_eq!(snaps.len(), dacu_log::snapshot::KEEP);
    let (newest, older) = (&snaps[0], &snaps[1]);
    // A healthy open loads the newest and replays nothing.
    let (dir, rep) = DataDir::open(tmp.path(), opts.clone()).unwrap();
    assert_eq!((rep.snapshot_seq, rep.events_replayed), (Some(newest.0), 0));
    assert_eq!(digest(dir.engine().state()), *digests.last().unwrap());
    drop(dir);
    // Damage the newest: the older one is used and the tail replayed from there.
    let mut b = std::fs::read(&newest.1).unwrap();
    let n = b.len();
    b[n - 3] ^= 1;
    std::fs::write(&newest.1, b).unwrap();
    let (dir, rep) = DataDir::open(tmp.path(), opts.clone()).unwrap();
    assert_eq!(rep.snapshot_seq, Some(older.0));
    assert_eq!(rep.events_replayed, newest.0 - older.0);
    assert!(rep.warnings[0].contains("checksum mismatch"), "{:?}", rep.warnings);
    assert_eq!(digest(dir.engine().state()), *digests.last().unwrap());
}

#[test]
fn segments_rotate_between_batches_and_replay_across_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = mini_commands();
    let opts = Options { segment_bytes: 300, snapshot_every: 0, ..Options::default() };
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&mini_festival()), opts.clone()).unwrap();
    let digests = run(&mut dir, &cmds, 4);
    drop(dir);
    let segs = segment::list(&tmp.path().join("log")).unwrap();
    assert!(segs.len() >= 3, "{segs:?}");
    let (dir, rep) = DataDir::open(tmp.path(), opts).unwrap();
    assert_eq!(rep.events_replayed, 32);
    assert_eq!(digest(dir.engine().state()), *digests.last().unwrap());
    let (rebuilt, _) = {
        drop(dir);
        dacu_log::rebuild_from_log(tmp.path()).unwrap()
    };
    assert_eq!(digest(rebuilt.state()), *digests.last().unwrap());
}

/// The faults of the durable-log issue: after each, the directory either reports the
/// failure and stops accepting, or restarts to the acknowledged state plus, at most,
/// whole batches that were written but never acknowledged — never part of a batch.
mod faults {
    use super::*;

    fn faulty(tmp: &Path) -> (DataDir, FaultyIo) {
        let io = FaultyIo::default();
        let opts = Options { io: Arc::new(io.clone()), snapshot_every: 0, ..Options::default() };
        let (dir, _) = DataDir::open_or_create(tmp, Some(&mini_festival()), opts).unwrap();
        (dir, io)
    }

    /// Acknowledged prefix lengths (in commands) of a run that commits every `batch`.
    fn reopen_digest(tmp: &Path) -> String {
        let (dir, _) = DataDir::open(tmp, Options { snapshot_every: 0, ..Options::default() }).unwrap();
        digest(dir.engine().state())
    }

    #[test]
    fn a_short_write_stops_the_directory_and_loses_nothing_acknowledged() {
        let cmds = mini_commands();
        for limit in [20u64, 300, 700, 1000, 1200] {
            let tmp = tempfile::tempdir().unwrap();
            let (mut dir, io) = faulty(tmp.path());
            let header_written = io.faults.lock().unwrap().written;
            io.faults.lock().unwrap().short_write_at = Some(header_written + limit);
            let mut acked = 0;
            let mut failed = false;
            for chunk in cmds.chunks(5) {
                for c in chunk {
                    let _ = dir.execute(c);
                }
                match dir.commit() {
                    Ok(_) => acked += chunk.len(),
                    Err(e) => {
                        assert!(e.to_string().contains("injected short write"), "{e}");
                        failed = true;
                        break;
                    }
                }
            }
            assert!(failed, "limit {limit} never tripped");
            // Stopped: nothing more is accepted.
            let r = dir.execute(&cmds[0]).unwrap_err();
            assert_eq!(r.code, dacu_core::Code::Unavailable);
            assert!(matches!(dir.commit(), Err(StoreError::Poisoned(_))));
            drop(dir);
            assert_eq!(reopen_digest(tmp.path()), digest_of(&cmds[..acked]), "limit {limit}");
        }
    }

    #[test]
    fn an_fsync_error_stops_the_directory_and_restart_has_only_acknowledged_batches() {
        let cmds = mini_commands();
        for fail_at_batch in 0..6 {
            let tmp = tempfile::tempdir().unwrap();
            let (mut dir, io) = faulty(tmp.path());
            let mut acked = 0;
            for (i, chunk) in cmds.chunks(6).enumerate() {
                for c in chunk {
                    let _ = dir.execute(c);
                }
                io.faults.lock().unwrap().fail_next_sync = i == fail_at_batch;
                match dir.commit() {
                    Ok(_) => acked += chunk.len(),
                    Err(e) => {
                        assert!(e.to_string().contains("injected fsync error"), "{e}");
                        break;
                    }
                }
            }
            assert_eq!(acked, fail_at_batch * 6);
            assert!(dir.is_poisoned());
            drop(dir);
            // The failed batch was cut back out, so restart holds exactly what was acked.
            assert_eq!(reopen_digest(tmp.path()), digest_of(&cmds[..acked]), "failed at batch {fail_at_batch}");
        }
    }

    #[test]
    fn a_crash_between_write_and_fsync_recovers_whole_batches_only() {
        let cmds = mini_commands();
        let batch = 4;
        // The state after each whole number of batches.
        let after: Vec<String> =
            (0..=cmds.len().div_ceil(batch)).map(|n| digest_of(&cmds[..(n * batch).min(cmds.len())])).collect();
        for crash_at_batch in 1..6 {
            // Every possible amount of the unsynced tail that reached the disk.
            let probe = tempfile::tempdir().unwrap();
            let (mut dir, io) = faulty(probe.path());
            let mut acked_batches = 0;
            for (i, chunk) in cmds.chunks(batch).enumerate() {
                for c in chunk {
                    let _ = dir.execute(c);
                }
                io.faults.lock().unwrap().crash_at_sync = i == crash_at_batch;
                if dir.commit().is_err() {
                    break;
                }
                acked_batches += 1;
            }
            assert_eq!(acked_batches, crash_at_batch);
            drop(dir);
            let (seg, synced, written) = {
                let f = io.faults.lock().unwrap();
                let (p, s, w) =
                    f.files.iter().find(|(p, _, _)| p.extension().is_some_and(|e| e == "log")).unwrap().clone();
                (p, s, w)
            };
            assert!(written > synced);
            let bytes = std::fs::read(&seg).unwrap();
            assert_eq!(bytes.len() as u64, written);
            for keep in synced..=written {
                let tmp = tempfile::tempdir().unwrap();
                copy_dir(probe.path(), tmp.path());
                let seg_copy = tmp.path().join("log").join(seg.file_name().unwrap());
                std::fs::write(&seg_copy, &bytes[..keep as usize]).unwrap();
                let got = reopen_digest(tmp.path());
                // Either exactly the acknowledged batches, or those plus the whole batch
                // whose fsync never returned (when all of it reached the disk).
                let ok = got == after[acked_batches] || (keep == written && got == after[acked_batches + 1]);
                assert!(ok, "crash at batch {crash_at_batch}, kept {keep} of {synced}..{written}");
                if keep < written {
                    assert_eq!(got, after[acked_batches], "a partial batch must not survive");
                }
            }
        }
    }
}

/// Regression: cutting the log below a snapshot (truncate-corrupt) must not leave the
/// snapshot's state being served over a shorter log.
#[test]
fn a_snapshot_the_log_no_longer_backs_is_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let cmds = mini_commands();
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&mini_festival()), Options::default()).unwrap();
    let digests = run(&mut dir, &cmds, 10);
    dir.close().unwrap();
    assert_eq!(dacu_log::snapshot::list(tmp.path()).unwrap()[0].0, 32);
    // Damage the second batch: the log keeps only the first batch's events.
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let pos = record_offsets(&bytes)[10];
    bytes[pos + segment::RECORD_HEADER_LEN] ^= 0x10;
    std::fs::write(&seg, &bytes).unwrap();
    let opts = Options { recovery: Recovery::TruncateCorrupt, snapshot_every: 0, ..Options::default() };
    let (mut dir, rep) = DataDir::open(tmp.path(), opts.clone()).unwrap();
    assert_eq!(rep.snapshot_seq, None, "{:?}", rep.warnings);
    assert!(rep.warnings.iter().any(|w| w.contains("the log ends at event 10")), "{:?}", rep.warnings);
    assert_eq!(dir.engine().state().events, 10);
    assert_eq!(digest(dir.engine().state()), digests[0]);
    // Writing continues at event 11, and a reopen agrees.
    dir.execute(&cmds[10]).unwrap();
    dir.commit().unwrap();
    let after = digest(dir.engine().state());
    drop(dir);
    let (dir, _) = DataDir::open(tmp.path(), opts).unwrap();
    assert_eq!(digest(dir.engine().state()), after);
    assert_eq!(dir.engine().state().events, 11);
}
