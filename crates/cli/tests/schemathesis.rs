//! Schemathesis (from PyPI) against the running service's own OpenAPI document: every
//! operation, generated and mutated requests, and no answer may be a 5xx or break the
//! document (status, content type, schema, headers). The tool is installed, once, into a
//! virtual environment under the target directory.

mod serve_common;
use serve_common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned version the run uses.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

fn schemathesis() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis-venv");
    let bin = venv.join("bin/schemathesis");
    let ok = bin.exists()
        && Command::new(&bin).arg("--version").output().is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS.trim_start_matches("schemathesis=="))
        });
    if !ok {
        let st = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 runs");
        assert!(st.success(), "python3 -m venv failed");
        let st =
            Command::new(venv.join("bin/pip")).args(["install", "--quiet", SCHEMATHESIS]).status().expect("pip runs");
        assert!(st.success(), "pip install {SCHEMATHESIS} failed");
    }
    bin
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_document() {
    let bin = schemathesis();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    let setup =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contests-mini.jsonl"))
            .unwrap();
    prepare_any(&data, &setup);
    let t = token(&data, "operator", None);
    let s = Server::start(&data, &[]);
    let out = Command::new(&bin)
        .args(["run", &format!("{}/openapi.json", s.url), "-H", &format!("Authorization: Bearer {t}")])
        .args(["--max-examples", "40", "--seed", "116"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
        ])
        // Revoking tokens is left out: the stateful phase would revoke the run's own token.
        .args(["--exclude-operation-id-regex", "^revoke$"])
        .env("SCHEMATHESIS_HOOKS", "")
        // Schemathesis keeps a cache under the working directory; keep it out of the repository.
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis found failures:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("passed"), "{report}");
    assert!(s.stop().success());
}
