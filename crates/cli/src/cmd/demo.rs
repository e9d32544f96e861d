//! The README's main job: the 116 festival, a sample of its activity, the report.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

const FESTIVAL: &str = include_str!("../../../../festivals/kuaishou-116-2021.toml");
const SAMPLE: &str = include_str!("../../../../examples/kuaishou-116-sample.jsonl");

pub fn run(data: Option<PathBuf>, quiet: bool) -> anyhow::Result<ExitCode> {
    let data = data.unwrap_or_else(|| std::env::temp_dir().join("dacu-demo"));
    if data.exists() {
        // Only ever remove a previous demo's data directory, never an arbitrary folder.
        anyhow::ensure!(
            data.join(dacu_log::FESTIVAL_FILE).exists(),
            "{} exists and is not a dacu data directory; pass --data with a new path",
            data.display()
        );
        std::fs::remove_dir_all(&data).with_context(|| format!("removing the previous demo in {}", data.display()))?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let fest_path = data.join("source-festival.toml");
    std::fs::write(&fest_path, FESTIVAL)?;
    let (mut dir, _) = dacu_log::DataDir::open_or_create(&data, Some(&fest_path), dacu_log::Options::default())?;
    std::fs::remove_file(&fest_path)?;
    let mut rejections = Vec::new();
    let s = super::ingest::ingest(&mut dir, SAMPLE.as_bytes(), &mut rejections).map_err(|(_, e)| e)?;
    if !quiet {
        print!("{}", super::check::summary(dir.festival()));
        println!();
        println!(
            "Ingested the shipped sample into {}: {} accepted, {} rejected (rejections show the error paths):",
            data.display(),
            s.accepted,
            s.rejected
        );
        print!("{}", String::from_utf8_lossy(&rejections));
        println!();
    }
    let r = dacu_core::view::report(dir.festival(), dir.engine().state());
    print!("{}", super::report::render(dir.festival(), &r));
    dir.close()?;
    if !quiet {
        println!("Explore it: dacu report --data {0} --json · dacu show --data {0} anchor <id> --json", data.display());
    }
    Ok(ExitCode::SUCCESS)
}
