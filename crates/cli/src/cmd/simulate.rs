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

/// A profile's `--scale`: `full` or `1/K`.
pub fn parse_profile_scale(scale: &str) -> anyhow::Result<u64> {
    dacu_sim::profile::parse_scale(scale).ok_or_else(|| {
        anyhow::anyhow!(
            "with --profile, --scale takes `full` or `1/K` (one simulated buyer stands for K, K from 1 to {}), got `{scale}`",
            dacu_sim::profile::MAX_UNITS
        )
    })
}

/// The default `1/K` of a profile.
pub const PROFILE_SCALE: &str = "1/100";

/// A profile by name, or an error naming the profiles.
pub fn find_profile(name: &str) -> anyhow::Result<dacu_sim::profile::Profile> {
    dacu_sim::profile::profile(name)
        .ok_or_else(|| anyhow::anyhow!("--profile takes one of {}, got `{name}`", dacu_sim::profile::names()))
}

/// The festival of a profile: the file given, or the one the profile is calibrated for.
pub fn profile_festival(
    p: &dacu_sim::profile::Profile,
    festival: Option<&Path>,
) -> anyhow::Result<dacu_core::Festival> {
    let f = match festival {
        Some(path) => dacu_log::load_festival(path)?.0,
        None => dacu_core::festival::parse(p.festival_toml)
            .map_err(|e| anyhow::anyhow!("the built-in festival of profile {}: {e:?}", p.name))?,
    };
    if f.festival.id != p.festival_id {
        eprintln!(
            "note: profile {} is calibrated for festival {}; {} is another, so its figures may land elsewhere",
            p.name, p.festival_id, f.festival.id
        );
    }
    Ok(f)
}

pub fn run_profile(
    name: &str,
    festival: Option<&Path>,
    scale: Option<&str>,
    seed: u64,
    out: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let p = find_profile(name)?;
    let units = parse_profile_scale(scale.unwrap_or(PROFILE_SCALE))?;
    let f = profile_festival(&p, festival)?;
    let pb = progress_bar(0, "simulate", quiet);
    let progress = |done: u64| pb.set_position(done);
    let w = match out {
        Some(path) if path != Path::new("-") => {
            let mut file = crate::files::Output::create(path)?;
            let w = dacu_sim::profile::simulate(&p, &f, units, seed, &mut file, progress)?;
            file.finish()?;
            w
        }
        _ => {
            let stdout = io::stdout().lock();
            let w = dacu_sim::profile::simulate(&p, &f, units, seed, stdout, progress)?;
            io::stdout().flush()?;
            w
        }
    };
    pb.finish_and_clear();
    eprintln!(
        "simulated profile {} at 1/{units}: {} commands, {} orders, {} refunds, {} live sessions, {} red packets, {} planned",
        p.name,
        w.commands,
        w.orders,
        w.refunds,
        w.sessions,
        w.red_packets,
        dacu_core::money::Fen(w.planned_fen)
    );
    Ok(ExitCode::SUCCESS)
}
