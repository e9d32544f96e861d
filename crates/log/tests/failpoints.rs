//! Crashes at chosen points (feature `failpoints`): the process dies (a panic, unwound
//! with nothing flushed or cleaned up) or an operation fails in the middle of a commit, a
//! snapshot, a segment rotation, a repair or a directory's creation. After each, the
//! directory reopens to the acknowledged state (plus, at most, the whole batch in
//! flight), never holds more than `snapshot::KEEP` snapshots, and a writer's open leaves
//! no temporary file behind.
#![cfg(feature = "failpoints")]

use dacu_core::digest::digest;
use dacu_core::{parse_line, Command};
use dacu_log::{snapshot, DataDir, Options, Recovery};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn festival() -> PathBuf {
    root().join("festivals/example-mini.toml")
}

fn commands() -> Vec<Command> {
    std::fs::read_to_string(root().join("examples/example-mini.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| parse_line(l).ok())
        .collect()
}

/// The digest after each whole number of `batch`-command batches.
fn prefixes(cmds: &[Command], batch: usize) -> Vec<String> {
    let f = dacu_log::load_festival(&festival()).unwrap().0;
    let mut e = dacu_core::Engine::new(std::sync::Arc::new(f));
    let mut out = vec![digest(e.state())];
    for chunk in cmds.chunks(batch) {
        for c in chunk {
            let _ = e.execute(c, &mut Vec::new());
        }
        out.push(digest(e.state()));
    }
    out
}

/// Runs `f` with the fail point `name` set to `action`, catching the simulated crash.
fn crash_at<T>(name: &str, action: &str, f: impl FnOnce() -> T) -> std::thread::Result<T> {
    fail::cfg(name, action).unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    fail::remove(name);
    r
}

fn snap_files(path: &Path) -> usize {
    std::fs::read_dir(snapshot::dir(path))
        .map_or(0, |d| d.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "snap")).count())
}

/// What every crash must leave: a directory that reads as one of `allowed`, that a writer
/// opens (cleaning up), and that a replay of its log agrees with.
fn check_after_crash(path: &Path, allowed: &[String], what: &str) -> String {
    assert!(snap_files(path) <= snapshot::KEEP, "{what}: {} snapshots", snap_files(path));
    let (engine, _) = dacu_log::open_read(path, &Options::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = digest(engine.state());
    assert!(allowed.contains(&got), "{what}: served a state that is not an allowed prefix");
    let (dir, _) = DataDir::open(path, Options::default()).unwrap_or_else(|e| panic!("{what}: writer: {e}"));
    assert_eq!(digest(dir.engine().state()), got, "{what}: the writer serves another state");
    drop(dir);
    assert!(!snapshot::dir(path).join(snapshot::TMP).exists(), "{what}: snapshot.tmp left after a writer's open");
    let (rebuilt, _) = dacu_log::rebuild_from_log(path).unwrap();
    assert_eq!(digest(rebuilt.state()), got, "{what}: the log disagrees with the served state");
    got
}

#[test]
fn a_crash_in_a_commit_keeps_the_acknowledged_batches_and_at_most_the_whole_one_in_flight() {
    let _scenario = fail::FailScenario::setup();
    let cmds = commands();
    let after = prefixes(&cmds, 5);
    for crash_batch in 0..6 {
        for action in ["panic", "return"] {
            let tmp = tempfile::tempdir().unwrap();
            let opts = Options { snapshot_every: 7, segment_bytes: 500, ..Options::default() };
            let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&festival()), opts).unwrap();
            let mut acked = 0;
            for (i, chunk) in cmds.chunks(5).enumerate() {
                for c in chunk {
                    let _ = dir.execute(c);
                }
                if i == crash_batch {
                    let r = crash_at("commit::before_sync", action, || dir.commit().map(|_| ()));
                    assert!(!matches!(r, Ok(Ok(()))), "the fail point did not fire");
                    break;
                }
                dir.commit().unwrap();
                acked += 1;
            }
            drop(dir);
            let what = format!("crash ({action}) in the commit of batch {crash_batch}");
            let allowed = if action == "panic" { &after[acked..=acked + 1] } else { &after[acked..=acked] };
            check_after_crash(tmp.path(), allowed, &what);
        }
    }
}

#[test]
fn a_crash_while_writing_a_snapshot_leaves_at_most_keep_snapshots_and_no_temporary() {
    let _scenario = fail::FailScenario::setup();
    let cmds = commands();
    let after = prefixes(&cmds, 4);
    for point in ["snapshot::write", "snapshot::before_rename", "write_atomic::before_rename"] {
        let tmp = tempfile::tempdir().unwrap();
        let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&festival()), Options::default()).unwrap();
        for (i, chunk) in cmds.chunks(4).enumerate() {
            for c in chunk {
                let _ = dir.execute(c);
            }
            dir.commit().unwrap();
            if i < 3 {
                dir.snapshot().unwrap();
            }
        }
        let r = crash_at(point, "panic", || dir.snapshot());
        let fired = r.is_err();
        drop(dir);
        let full = after.last().unwrap().clone();
        assert_eq!(check_after_crash(tmp.path(), &[full], point), *after.last().unwrap());
        if point != "write_atomic::before_rename" {
            assert!(fired, "{point} did not fire");
        }
    }
}

#[test]
fn a_crash_after_a_segment_is_created_continues_the_log() {
    let _scenario = fail::FailScenario::setup();
    let cmds = commands();
    let after = prefixes(&cmds, 3);
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options { segment_bytes: 300, snapshot_every: 0, ..Options::default() };
    let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&festival()), opts.clone()).unwrap();
    let mut acked = 0;
    let mut fired = false;
    for chunk in cmds.chunks(3) {
        for c in chunk {
            let _ = dir.execute(c);
        }
        match crash_at("segment::before_sync", "panic", || dir.commit().map(|_| ())) {
            Ok(r) => {
                r.unwrap();
                acked += 1;
            }
            Err(_) => {
                fired = true;
                break;
            }
        }
    }
    assert!(fired, "no rotation happened");
    drop(dir);
    check_after_crash(tmp.path(), &after[acked..=acked], "crash in a rotation");
    // And the log goes on from there.
    let (mut dir, _) = DataDir::open(tmp.path(), opts).unwrap();
    for c in &cmds[acked * 3..] {
        let _ = dir.execute(c);
    }
    dir.close().unwrap();
    check_after_crash(tmp.path(), &after[after.len() - 1..], "after continuing");
}

#[test]
fn a_crash_in_the_middle_of_a_truncate_corrupt_repair_is_finished_by_the_next_one() {
    let _scenario = fail::FailScenario::setup();
    let cmds = commands();
    let after = prefixes(&cmds, 3);
    for point in ["repair::after_remove", "repair::after_cut"] {
        let tmp = tempfile::tempdir().unwrap();
        let opts = Options { segment_bytes: 300, snapshot_every: 0, ..Options::default() };
        let (mut dir, _) = DataDir::open_or_create(tmp.path(), Some(&festival()), opts.clone()).unwrap();
        for chunk in cmds.chunks(3) {
            for c in chunk {
                let _ = dir.execute(c);
            }
            dir.commit().unwrap();
        }
        dir.close().unwrap();
        // Damage the second segment: the repair drops it, every later one, the snapshot.
        let segs = dacu_log::segment::list(&tmp.path().join("log")).unwrap();
        assert!(segs.len() >= 3);
        let mut b = std::fs::read(&segs[1].1).unwrap();
        let n = b.len();
        b[n / 2] ^= 0x55;
        std::fs::write(&segs[1].1, &b).unwrap();
        // Without the snapshot in use, the open reads the damaged segment (with it, the
        // open reads only the last segment: damage below a snapshot is found by verify).
        let tc = Options { recovery: Recovery::TruncateCorrupt, use_snapshots: false, ..opts.clone() };
        let r = crash_at(point, "panic", || DataDir::open(tmp.path(), tc.clone()).map(|_| ()));
        assert!(r.is_err(), "{point} did not fire: {:?}", r.map(|x| x.map_err(|e| e.to_string())));
        // Whatever the crash left, the same repair finishes, to a whole-batch prefix.
        let (dir, _) = DataDir::open(tmp.path(), tc).unwrap();
        let got = digest(dir.engine().state());
        drop(dir);
        assert!(after.contains(&got), "{point}: not a prefix of whole batches");
        check_after_crash(tmp.path(), &[got], point);
    }
}

#[test]
fn a_crash_while_creating_a_directory_leaves_one_that_creation_finishes() {
    let _scenario = fail::FailScenario::setup();
    for point in ["create::before_festival", "write_atomic::before_rename"] {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("new");
        let r =
            crash_at(point, "panic", || DataDir::open_or_create(&d, Some(&festival()), Options::default()).map(|_| ()));
        assert!(r.is_err(), "{point} did not fire");
        assert!(!d.join("festival.toml").exists(), "{point}: a festival file appeared before it was whole");
        assert!(dacu_log::open_read(&d, &Options::default()).is_err(), "{point}: not yet a data directory");
        let (dir, _) = DataDir::open_or_create(&d, Some(&festival()), Options::default()).unwrap();
        assert_eq!(dir.engine().state().events, 0);
    }
}
