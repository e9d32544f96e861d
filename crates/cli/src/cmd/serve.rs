//! `dacu serve`: the festival engine as an HTTP service (docs/api.md).

use anyhow::Context;
use dacu_server::{config, Service};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct Args {
    pub data: PathBuf,
    pub festival: Option<PathBuf>,
    pub log: Option<String>,
    pub listen: Option<String>,
    pub config: Option<PathBuf>,
    pub set: Vec<String>,
}

pub fn run(a: Args, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let file = match &a.config {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => None,
    };
    let mut sets = a.set.clone();
    if let Some(l) = &a.listen {
        sets.push(format!("listen=\"{l}\""));
    }
    let cfg =
        config::load(file.as_deref(), std::env::vars(), &sets).map_err(|e| anyhow::anyhow!("the settings: {e}"))?;
    init_logs();
    let baseline = match cfg.report.baseline.as_str() {
        "" => None,
        p => Some(super::report::load_baseline(Path::new(p), opts.clone()).context("report.baseline")?),
    };
    let reference = match cfg.report.reference.as_str() {
        "" => None,
        p => Some(super::report::load_reference(Path::new(p), opts.clone()).context("report.reference")?),
    };
    let baseline = dacu_core::view::ReportOptions { baseline, reference, ..Default::default() };
    let service = match &a.log {
        None => {
            let (service, report) = Service::open(&a.data, a.festival.as_deref(), cfg.clone(), opts, baseline)
                .map_err(|e| anyhow::anyhow!("cannot serve {}: {e}", a.data.display()))?;
            super::warn(&report);
            service
        }
        Some(url) => open_stream(&a, url, &cfg, baseline)?,
    };
    let rt = runtime(&cfg)?;
    rt.block_on(serve(&service, &cfg.listen, &a.data))?;
    drop(rt);
    let down = service.stop().context("stopping")?;
    eprintln!("dacu: stopped at event {}", down.durable_seq);
    let closed = match down.snapshot {
        Ok(()) => super::Closed::Ok,
        Err(why) => super::Closed::SnapshotFailed(why),
    };
    Ok(closed.exit(ExitCode::SUCCESS))
}

/// A node whose log is a JetStream stream: the state rebuilt from the stream, and what
/// reading it found on stderr.
fn open_stream(
    a: &Args,
    url: &str,
    cfg: &config::Config,
    baseline: dacu_core::view::ReportOptions,
) -> anyhow::Result<Service> {
    let url = dacu_jetstream::LogUrl::parse(url).map_err(|e| anyhow::anyhow!("--log: {e}"))?;
    let festival = match &a.festival {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => None,
    };
    let (service, o) = Service::open_stream(&a.data, &url, festival.as_deref(), cfg.clone(), baseline)
        .map_err(|e| anyhow::anyhow!("cannot serve {url}: {e}"))?;
    for w in &o.warnings {
        eprintln!("dacu: {url}: {w}");
    }
    let r = &o.recovered;
    let from = o.snapshot_seq.map_or("the start".to_string(), |s| format!("the snapshot at event {s}"));
    eprintln!(
        "dacu: {url}: {} events, from {from} and {} batches after it, to stream sequence {}",
        r.last_seq, r.batches, r.stream_last
    );
    for t in &r.torn {
        eprintln!(
            "dacu: {url}: skipped a batch never completed ({} of {} chunks from stream sequence {}, events from {}): its writer stopped before acknowledging it",
            t.chunks, t.of, t.stream_seq, t.first_seq
        );
    }
    Ok(service)
}

/// The service's runtime: `workers` HTTP threads (config.md: `workers`), and no
/// transparent huge pages for the process.
pub fn runtime(cfg: &config::Config) -> anyhow::Result<tokio::runtime::Runtime> {
    no_huge_pages();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.worker_threads(cores))
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Turns transparent huge pages off for this process. The allocator asks for them, and a
/// fault on one zeroes 2 MiB at once: as the festival's state grows, the writer met such
/// faults in the middle of a batch and every request of the batch waited (BENCHMARKS.md,
/// "The HTTP service"). Where the call is refused, memory stays as it was.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        #[allow(unsafe_code, reason = "FFI: prctl(2); the workspace denies unsafe code elsewhere")]
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if r != 0 {
            eprintln!("dacu: transparent huge pages stay on ({})", std::io::Error::last_os_error());
        }
    }
}

async fn serve(service: &Service, listen: &str, data: &Path) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // One line: scripts read the URL from it and may close the pipe after.
    println!(
        "listening on http://{addr} (data {}); the console: http://{addr}/login?token=TOKEN with a token from `dacu token create`",
        data.display()
    );
    service.run(listener, stop_signal()).await.context("serving")
}

/// SIGTERM or SIGINT (Ctrl-C): stop accepting, answer what is in flight, then stop.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("dacu: stopping: answering the requests in flight, then the last commit and snapshot");
}

/// Structured logs on stderr: `DACU_LOG` filters (default `info`), `DACU_LOG_FORMAT=json`
/// for one JSON object per line.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DACU_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("DACU_LOG_FORMAT").is_ok_and(|f| f == "json") {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
