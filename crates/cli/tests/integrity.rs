//! The store's promises through the real binary: read-only commands never change a byte
//! (and work where nothing can be written), one flipped bit is refused rather than
//! cutting the log, only a writer cuts a torn tail, directories are created under their
//! lock, and dacu deletes or overwrites nothing it did not make.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file and directory under `path`, with its bytes and modification time.
fn tree(path: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::metadata(&p).unwrap().modified().unwrap();
            if p.is_dir() {
                stack.push(p.clone());
                out.insert(p, (Vec::new(), m));
            } else {
                out.insert(p.clone(), (std::fs::read(&p).unwrap(), m));
            }
        }
    }
    out
}

/// A settled contests directory, in several commit batches.
fn contests_dir(data: &Path) {
    let d = p(data);
    let f = festival("example-mini.toml");
    let o = dacu(&["ingest", "--data", d, "--festival", p(&f), p(&example("contests-mini.jsonl"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dacu(&["settle", "--data", d, "--at", "2021-11-08T00:00:00+08:00"]).status.success());
    assert!(dacu(&["ingest", "--data", d, p(&example("settle-mini-late.jsonl"))]).status.success());
}

/// Every read-only command, with arguments that find something in `contests_dir`.
fn readers(d: &str) -> Vec<Vec<String>> {
    let cart = example("cart.json");
    let v: Vec<Vec<&str>> = vec![
        vec!["digest", "--data", d],
        vec!["report", "--data", d],
        vec!["report", "--data", d, "--json"],
        vec!["show", "--data", d, "merchant", "m1"],
        vec!["leaderboard", "--data", d, "anchor_race"],
        vec!["progress", "--data", d, "a_head"],
        vec!["review", "--data", d, "s1"],
        vec!["ledger", "--data", d],
        vec!["ledger", "--data", d, "--json"],
        vec!["explain", "--data", d, "anchor_race:a_head"],
        vec!["verify", "--data", d],
        vec!["quote", "--data", d, "--user", "u1", "--at", "2021-11-07T10:00:00+08:00", p(&cart)],
    ];
    v.into_iter().map(|a| a.into_iter().map(String::from).collect()).collect()
}

fn run(args: &[String]) -> std::process::Output {
    dacu(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn read_only_commands_change_no_byte_even_with_a_torn_tail_to_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    contests_dir(&data);
    let d = p(&data);
    let digest = stdout(&dacu(&["digest", "--data", d]));
    for torn in [false, true] {
        if torn {
            // A batch cut short by a crash: half a record after the last commit.
            let seg = data.join("log/00000000000000000001.log");
            let mut f = std::fs::OpenOptions::new().append(true).open(seg).unwrap();
            std::io::Write::write_all(&mut f, &[7u8; 30]).unwrap();
        }
        let before = tree(&data);
        for args in readers(d) {
            let o = run(&args);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            if torn {
                assert!(
                    stderr(&o).contains("torn write") && stderr(&o).contains("nothing was changed"),
                    "{args:?}: {}",
                    stderr(&o)
                );
            }
            assert!(tree(&data) == before, "{args:?} changed the data directory (torn tail: {torn})");
        }
        assert_eq!(stdout(&dacu(&["digest", "--data", d])), digest);
    }
    // Only a writer cuts the tail, and says so.
    let o = dacu(&["settle", "--data", d, "--at", "2021-11-09T00:00:00+08:00"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("torn write") && stderr(&o).contains("cut "), "{}", stderr(&o));
    let o = dacu(&["digest", "--data", d]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn read_only_commands_work_on_a_read_only_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    contests_dir(&data);
    let d = p(&data);
    let expect = stdout(&dacu(&["digest", "--data", d]));
    // A read-only bind mount of the directory, in a mount namespace of its own.
    let script = r#"mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && touch "$D/probe" 2>/dev/null && exit 99; exec "$@""#;
    for args in readers(d) {
        let o = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", script, "sh", env!("CARGO_BIN_EXE_dacu")])
            .args(&args)
            .env("D", d)
            .output()
            .expect("unshare");
        assert_ne!(o.status.code(), Some(99), "the mount was not read-only");
        assert!(o.status.success(), "{args:?} on a read-only directory: {}", stderr(&o));
        if args[0] == "digest" {
            assert_eq!(stdout(&o), expect);
        }
    }
}

#[test]
fn a_flipped_length_bit_in_the_first_batch_is_refused_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    contests_dir(&data);
    let d = p(&data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    let seg = data.join("log/00000000000000000001.log");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[76 + 1] ^= 0x04; // the first record's length field
    std::fs::write(&seg, &bytes).unwrap();
    let before = tree(&data);
    for args in readers(d).into_iter().chain([vec!["settle".into(), "--data".into(), d.into()]]) {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{}: corrupt log at byte offset 76", seg.display())),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(tree(&data) == before, "{args:?} changed the directory");
    }
}

#[test]
fn two_creators_of_one_new_directory_never_mix_festivals() {
    let tmp = tempfile::tempdir().unwrap();
    let a = festival("example-mini.toml");
    let b_src = std::fs::read_to_string(&a).unwrap().replacen(
        "name_en = \"Mini Shopping Festival\"",
        "name_en = \"Another Festival\"",
        1,
    );
    let b = tmp.path().join("other.toml");
    assert_ne!(b_src, std::fs::read_to_string(&a).unwrap());
    std::fs::write(&b, b_src).unwrap();
    let input = example("example-mini.jsonl");
    for round in 0..20 {
        let data = tmp.path().join(format!("d{round}"));
        let spawn = |f: &Path| {
            std::process::Command::new(env!("CARGO_BIN_EXE_dacu"))
                .args(["ingest", "--data", p(&data), "--festival", p(f), p(&input)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ca, cb) = (spawn(&a), spawn(&b));
        let (oa, ob) = (ca.wait_with_output().unwrap(), cb.wait_with_output().unwrap());
        let won: Vec<&Path> = [(&oa, a.as_path()), (&ob, b.as_path())]
            .into_iter()
            .filter(|(o, _)| o.status.success())
            .map(|x| x.1)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {} / {}", stderr(&oa), stderr(&ob));
        for o in [&oa, &ob].into_iter().filter(|o| !o.status.success()) {
            let e = stderr(o);
            assert!(
                e.contains("in use by another dacu process") || e.contains("different festival"),
                "round {round}: {e}"
            );
        }
        let have = std::fs::read_to_string(data.join("festival.toml")).unwrap();
        assert_eq!(have, std::fs::read_to_string(won[0]).unwrap(), "round {round}: the festival file is the loser's");
        let v = dacu(&["verify", "--data", p(&data)]);
        assert!(v.status.success(), "round {round}: {}", stdout(&v));
    }
}

#[test]
fn a_new_data_directory_is_never_made_inside_a_folder_of_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let f = festival("example-mini.toml");
    let o = dacu(&["ingest", "--data", p(tmp.path()), "--festival", p(&f), p(&example("example-mini.jsonl"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not empty and is not a dacu data directory"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "it wrote into the folder");
}

#[test]
fn demo_and_bench_replace_only_directories_they_made() {
    let tmp = tempfile::tempdir().unwrap();
    // A live data directory: the demo must not delete it, even though it holds a festival.
    let live = tmp.path().join("live");
    contests_dir(&live);
    let before = tree(&live);
    let o = dacu(&["demo", "--data", p(&live), "--scale", "2000", "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("was not made by dacu demo"), "{}", stderr(&o));
    assert!(tree(&live) == before);
    // A folder of other things, for the bench.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("data")).unwrap();
    std::fs::write(work.join("data/keep.txt"), "mine").unwrap();
    let f = festival("example-mini.toml");
    let o =
        dacu(&["bench", "ingest", "--festival", p(&f), "--scale", "2000", "--work", p(&work), "--baselines", "none"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("was not made by dacu bench"), "{}", stderr(&o));
    assert!(work.join("data/keep.txt").exists());
    // Its own directory the demo replaces — but not while a writer holds it.
    let demo = tmp.path().join("demo");
    let o = dacu(&["demo", "--data", p(&demo), "--scale", "2000", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lock = std::fs::File::open(demo.join("LOCK")).unwrap();
    lock.try_lock().unwrap();
    let o = dacu(&["demo", "--data", p(&demo), "--scale", "2000", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("in use by another dacu process"), "{}", stderr(&o));
    drop(lock);
    let o = dacu(&["demo", "--data", p(&demo), "--scale", "2000", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn outputs_never_overwrite_a_file_inside_a_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    contests_dir(&data);
    let before = tree(&data);
    let d = p(&data);
    let fest = data.join("festival.toml");
    for args in [
        vec!["report", "--data", d, "--html", p(&fest)],
        vec!["report", "--data", d, "--html", p(&data.join("log/report.html"))],
        vec!["simulate", "--festival", p(&fest), "--scale", "1000", "--out", p(&fest), "--quiet"],
    ] {
        let o = dacu(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("is inside the data directory"), "{args:?}: {}", stderr(&o));
        assert!(tree(&data) == before, "{args:?} changed the directory");
    }
    // Elsewhere, the report is written whole, with no temporary left beside it.
    let html = tmp.path().join("r.html");
    assert!(dacu(&["report", "--data", d, "--html", p(&html)]).status.success());
    assert!(std::fs::read_to_string(&html).unwrap().starts_with("<!doctype html>"));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn a_full_disk_at_the_closing_snapshot_keeps_the_data_and_says_so() {
    // Regression: the closing snapshot failed on a full disk after everything was
    // committed; ingest printed no summary, exited 2 like a failed write, and left a
    // partial snapshot.tmp on the full disk.
    let tmp = tempfile::tempdir().unwrap();
    let fest = festival("example-mini.toml");
    let work = tmp.path().join("w.jsonl");
    let o = dacu(&["simulate", "--festival", p(&fest), "--scale", "20000", "--out", p(&work), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A run on a roomy disk tells how big the log and the snapshot are.
    let roomy = tmp.path().join("roomy");
    let o = dacu(&["ingest", "--data", p(&roomy), "--festival", p(&fest), p(&work)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout(&o);
    let digest = stdout(&dacu(&["digest", "--data", p(&roomy)]));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let log = size(&roomy.join("log/00000000000000000001.log"));
    let (_, snap) = std::fs::read_dir(roomy.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), size(&p)))
        .next()
        .unwrap();
    assert!(snap > 64 << 10, "the snapshot is too small to tell from the log's slack: {snap}");
    let pages = |b: u64| b.div_ceil(4096);
    // Room for the festival file and the log with a little slack, and half the snapshot.
    let room = 4096 * (pages(size(&fest)) + pages(log) + 4 + pages(snap) / 2);
    // A small tmpfs of its own, in a mount namespace of its own.
    let mnt = tmp.path().join("full");
    std::fs::create_dir_all(&mnt).unwrap();
    let script = r#"mount -t tmpfs -o size="$ROOM" tmpfs "$M" || exit 98
"$DACU" ingest --data "$M/d" --festival "$F" "$W" >"$T/out" 2>"$T/err"; echo $? >"$T/code"
ls -a "$M/d/snapshots" >"$T/snaps" 2>&1
"$DACU" digest --data "$M/d" >"$T/digest" 2>&1"#;
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env("ROOM", room.to_string())
        .env("M", &mnt)
        .env("DACU", env!("CARGO_BIN_EXE_dacu"))
        .env("F", &fest)
        .env("W", &work)
        .env("T", tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |n: &str| std::fs::read_to_string(tmp.path().join(n)).unwrap();
    let err = read("err");
    assert_eq!(read("code").trim(), "3", "{err}");
    assert_eq!(read("out"), summary, "the summary of what is safe");
    assert!(
        err.contains("everything was committed and is safe, but the closing snapshot could not be written"),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!read("snaps").contains("snapshot.tmp"), "a partial snapshot.tmp was left: {}", read("snaps"));
    assert_eq!(read("digest"), digest, "the data on the full disk is the same");
}
