//! Random damage to small data directories — bit flips, truncations, deleted files, in
//! the log and in the snapshots — never makes any open serve a state other than the
//! replay of a prefix of whole committed batches, never panics, and never lets a
//! read-only open change a byte. Damage confined to snapshots never costs an event.

use dacu_core::digest::digest;
use dacu_core::{parse_line, Command};
use dacu_log::{DataDir, Options, Recovery};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn commands() -> Vec<Command> {
    let mut v: Vec<Command> = Vec::new();
    for f in ["example-mini.jsonl", "marketing-mini.jsonl"] {
        v.extend(
            std::fs::read_to_string(root().join("examples").join(f))
                .unwrap()
                .lines()
                .filter_map(|l| parse_line(l).ok()),
        );
    }
    v
}

/// A scratch directory on tmpfs where there is one: the cases fsync a lot.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(t) = tempfile::tempdir_in(shm) {
            return t;
        }
    }
    tempfile::tempdir().unwrap()
}

fn tree(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), b"<dir>".to_vec());
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Damage {
    /// Flip bit `bit` of the byte at `at` (a fraction of the file, in millionths).
    Flip {
        file: usize,
        at: u32,
        bit: u8,
    },
    /// Cut the file to a fraction of its length.
    Truncate {
        file: usize,
        at: u32,
    },
    Delete {
        file: usize,
    },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        6 => (any::<usize>(), 0u32..1_000_000, 0u8..8).prop_map(|(file, at, bit)| Damage::Flip { file, at, bit }),
        2 => (any::<usize>(), 0u32..1_000_000).prop_map(|(file, at)| Damage::Truncate { file, at }),
        1 => any::<usize>().prop_map(|file| Damage::Delete { file }),
    ]
}

/// The files damage may hit: the segments, the snapshots, or both.
fn victims(path: &Path, snapshots_only: bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = tree(path)
        .into_keys()
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str());
            ext == Some("snap") || (!snapshots_only && ext == Some("log"))
        })
        .collect();
    v.sort();
    v
}

fn apply(path: &Path, d: &Damage, snapshots_only: bool) -> bool {
    let files = victims(path, snapshots_only);
    if files.is_empty() {
        return false;
    }
    let pick = |i: usize| &files[i % files.len()];
    match d {
        Damage::Flip { file, at, bit } => {
            let p = pick(*file);
            let mut b = std::fs::read(p).unwrap();
            if b.is_empty() {
                return false;
            }
            let i = (b.len() as u64 * *at as u64 / 1_000_000) as usize;
            b[i] ^= 1 << bit;
            std::fs::write(p, b).unwrap();
        }
        Damage::Truncate { file, at } => {
            let p = pick(*file);
            let len = std::fs::metadata(p).unwrap().len();
            let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
            f.set_len(len * *at as u64 / 1_000_000).unwrap();
        }
        Damage::Delete { file } => std::fs::remove_file(pick(*file)).unwrap(),
    }
    true
}

struct Built {
    dir: tempfile::TempDir,
    /// The digest after each committed batch, the empty state first.
    prefixes: Vec<String>,
}

fn build(batch: usize, segment_bytes: u64, snapshot_every: u64, close: bool) -> Built {
    let dir = scratch();
    let opts = Options { segment_bytes, snapshot_every, ..Options::default() };
    let fest = root().join("festivals/example-mini.toml");
    let (mut d, _) = DataDir::open_or_create(dir.path(), Some(&fest), opts).unwrap();
    let mut prefixes = vec![digest(d.engine().state())];
    for chunk in commands().chunks(batch) {
        for c in chunk {
            let _ = d.execute(c);
        }
        d.commit().unwrap();
        prefixes.push(digest(d.engine().state()));
    }
    if close {
        d.close().unwrap();
    }
    Built { dir, prefixes }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn damage_never_serves_anything_but_a_prefix_of_whole_committed_batches(
        batch in 1usize..9,
        segment_bytes in prop_oneof![Just(256u64 << 20), 300u64..2000],
        snapshot_every in prop_oneof![Just(0u64), 5u64..30],
        close in any::<bool>(),
        snapshots_only in prop::bool::weighted(0.25),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let b = build(batch, segment_bytes, snapshot_every, close);
        let path = b.dir.path();
        let full = b.prefixes.last().unwrap().clone();
        let mut hit = false;
        for d in &damages {
            hit |= apply(path, d, snapshots_only);
        }
        prop_assume!(hit);
        let before = tree(path);
        for recovery in [Recovery::Strict, Recovery::TruncateCorrupt] {
            for use_snapshots in [true, false] {
                let opts = Options { recovery, use_snapshots, ..Options::default() };
                if let Ok((engine, _)) = dacu_log::open_read(path, &opts) {
                    let got = digest(engine.state());
                    prop_assert!(b.prefixes.contains(&got), "a reader served a state that no prefix has");
                    if snapshots_only {
                        prop_assert_eq!(&got, &full, "damage to snapshots alone cost events");
                    }
                }
                prop_assert!(tree(path) == before, "a read-only open changed the directory");
            }
        }
        // The writer: whatever it serves is a prefix, its repairs hold, and it goes on.
        for recovery in [Recovery::Strict, Recovery::TruncateCorrupt] {
            let opts = Options { recovery, ..Options::default() };
            let Ok((mut d, _)) = DataDir::open(path, opts) else { continue };
            let got = digest(d.engine().state());
            let got_events = d.engine().state().events;
            prop_assert!(b.prefixes.contains(&got), "a writer served a state that no prefix has");
            if snapshots_only {
                prop_assert_eq!(&got, &full, "damage to snapshots alone cost events");
            }
            let extra = parse_line(r#"{"type":"register_provider","provider":"p_fuzz","name":"After"}"#).unwrap();
            let accepted = d.execute(&extra).is_ok();
            d.close().unwrap();
            let (e, _) = dacu_log::open_read(path, &Options::default()).unwrap();
            // Damage below the snapshot in use is not read, so not repaired: a replay of
            // the whole log reports it (that is `dacu verify`'s job), never disagrees.
            match dacu_log::rebuild_from_log(path) {
                Ok((r, _)) => prop_assert_eq!(digest(e.state()), digest(r.state()), "served and replayed disagree"),
                Err(err) => prop_assert!(matches!(err, dacu_log::StoreError::Corrupt { .. }), "{}", err),
            }
            prop_assert!(accepted, "the repaired directory refused a new command");
            prop_assert_eq!(e.state().events, got_events + 1);
            prop_assert!(e.state().provider("p_fuzz").is_some());
            break;
        }
    }
}
