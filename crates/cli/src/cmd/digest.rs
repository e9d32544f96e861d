use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path) -> anyhow::Result<ExitCode> {
    let dir = super::open(data)?;
    let st = dir.engine().state();
    println!("{} events={}", dacu_core::digest::digest(st), st.events);
    Ok(ExitCode::SUCCESS)
}
