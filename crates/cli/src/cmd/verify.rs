use anyhow::Context;
use dacu_core::digest::digest;
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    // The served state is read and the directory closed (unlocked) before the rebuild.
    let served = {
        let dir = super::open(data, opts)?;
        (digest(dir.engine().state()), dir.engine().state().events)
    };
    let (engine, rep) =
        dacu_log::rebuild_from_log(data).with_context(|| format!("cannot rebuild {} from its log", data.display()))?;
    super::warn(&rep);
    let rebuilt = (digest(engine.state()), engine.state().events);
    println!("log:    {} events={}", rebuilt.0, rebuilt.1);
    println!("served: {} events={}", served.0, served.1);
    if rebuilt == served {
        println!("ok");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("MISMATCH: the state the directory serves differs from a replay of its log");
        Ok(ExitCode::from(1))
    }
}
