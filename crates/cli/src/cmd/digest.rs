use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let st = dir.engine().state();
    println!("{} events={}", dacu_core::digest::digest(st), st.events);
    Ok(ExitCode::SUCCESS)
}
