//! docs/log.md ends with a reader of the log in Python. It must read what dacu writes:
//! this test takes it from the page and runs it against a directory of several segments.

use dacu_core::parse_line;
use dacu_log::{DataDir, Options};
use std::path::Path;

#[test]
fn the_python_reader_in_the_docs_reads_what_dacu_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let page = std::fs::read_to_string(root.join("docs/log.md")).unwrap();
    let start = page.find("```python\n").expect("a python block in docs/log.md") + "```python\n".len();
    let code = &page[start..start + page[start..].find("\n```").unwrap()];
    let tmp = tempfile::tempdir().unwrap();
    let opts = Options { segment_bytes: 400, snapshot_every: 0, ..Options::default() };
    let (mut dir, _) =
        DataDir::open_or_create(tmp.path(), Some(&root.join("festivals/example-mini.toml")), opts).unwrap();
    let lines = std::fs::read_to_string(root.join("examples/example-mini.jsonl")).unwrap();
    let mut batches = 0;
    for chunk in lines.lines().filter_map(|l| parse_line(l).ok()).collect::<Vec<_>>().chunks(3) {
        for c in chunk {
            let _ = dir.execute(c);
        }
        batches += dir.commit().unwrap().is_some() as usize;
    }
    let events = dir.engine().state().events;
    drop(dir);
    assert!(dacu_log::segment::list(&tmp.path().join("log")).unwrap().len() > 2);
    let script = tmp.path().join("reader.py");
    std::fs::write(&script, code).unwrap();
    let out =
        std::process::Command::new("python3").arg(&script).arg(tmp.path().join("log")).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{batches} {events}"));
}
