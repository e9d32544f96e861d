use dacu_sim::{Mix, Scale};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn progress_bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {human_pos}/{human_len} ({per_sec}, ETA {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

pub fn parse_scale(scale: &str) -> anyhow::Result<Scale> {
    Scale::parse(scale).ok_or_else(|| {
        anyhow::anyhow!("--scale takes small, medium, large or a number of commands (1000 or more), got `{scale}`")
    })
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MixArg {
    Festival,
    Orders,
}

impl From<MixArg> for Mix {
    fn from(m: MixArg) -> Mix {
        match m {
            MixArg::Festival => Mix::Festival,
            MixArg::Orders => Mix::Orders,
        }
    }
}

pub fn run(
    festival: &Path,
    scale: &str,
    opts: dacu_sim::Options,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        opts.traffic_error_pct <= dacu_sim::MAX_TRAFFIC_ERROR_PCT,
        "--traffic-error-pct must be 0 to {}, got {}",
        dacu_sim::MAX_TRAFFIC_ERROR_PCT,
        opts.traffic_error_pct
    );
    let (f, _) = dacu_log::load_festival(festival)?;
    let scale = parse_scale(scale)?;
    let pb = progress_bar(scale.commands(), "simulate", quiet);
    let progress = |done: u64, _| pb.set_position(done);
    let summary = match out {
        Some(p) if p != Path::new("-") => {
            let mut file = crate::files::Output::create(p)?;
            let s = dacu_sim::simulate_with_options(&f, scale, opts, &mut file, progress)?;
            file.finish()?;
            s
        }
        _ => {
            let stdout = io::stdout().lock();
            let s = dacu_sim::simulate_with_options(&f, scale, opts, stdout, progress)?;
            io::stdout().flush()?;
            s
        }
    };
    pb.finish_and_clear();
    eprintln!(
        "simulated {} commands: {} orders, {} refunds, {} live sessions, {} deliberately bad lines",
        summary.commands, summary.orders, summary.refunds, summary.sessions, summary.bad_lines
    );
    Ok(ExitCode::SUCCESS)
}
