//! `dacu`: a thin binary over dacu-core, dacu-log and dacu-sim.
//!
//! - `cmd`: one file per command (`cmd/ingest/`: the ingest pipeline's reader and
//!   secrets; `cmd/baseline/`: the Redis and PostgreSQL designs of `dacu bench`, built only
//!   with the `baselines` feature).
//! - `files`: the files the command line writes and the directories it may replace.
//! - `table`: plain-text tables padded to display width.
//!
//! Exit codes (docs/cli.md, Exit codes): 0 success; 1 the command ran but found what it was
//! asked to flag (an unknown id for `show` or `review`, rejections under `ingest --strict`);
//! 2 bad input, usage or storage (an invalid festival file, an unreadable data directory,
//! a bad flag); 3 a writer committed everything but could not write its closing snapshot.

mod cmd;
mod files;
mod table;

// The engine allocates many small strings per command; mimalloc handles that pattern
// much faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dacu", version, about = "dacu (大促): a live-commerce shopping festival engine", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// What to do about a damaged log when opening a data directory: `strict` cuts only an
    /// incomplete final batch (a torn write) and refuses anything else; `truncate-corrupt`
    /// also cuts the log at the first corrupt record, dropping what follows.
    #[arg(long, global = true, value_enum, default_value_t = RecoveryArg::Strict)]
    recovery: RecoveryArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RecoveryArg {
    Strict,
    TruncateCorrupt,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Merchant,
    Anchor,
    Provider,
}

impl From<RoleArg> for dacu_core::festival::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Merchant => dacu_core::festival::Role::Merchant,
            RoleArg::Anchor => dacu_core::festival::Role::Anchor,
            RoleArg::Provider => dacu_core::festival::Role::Provider,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a festival file and print a summary (or the normalised festival as JSON).
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Apply a stream of commands (JSON lines) to a data directory.
    Ingest {
        /// The data directory; created from --festival on first use.
        #[arg(long)]
        data: PathBuf,
        /// The festival file to create the data directory from.
        #[arg(long)]
        festival: Option<PathBuf>,
        /// Exit with status 1 when any command was rejected.
        #[arg(long)]
        strict: bool,
        /// Close a commit batch at most this many milliseconds after its first line, even
        /// while the input is idle (0 to 10000; a batch also closes at 8,192 commands).
        #[arg(long, default_value_t = cmd::ingest::DEFAULT_COMMIT_MS,
              value_parser = clap::value_parser!(u64).range(0..=cmd::ingest::MAX_COMMIT_MS))]
        commit_ms: u64,
        /// After every commit, write one JSON line saying through which input line
        /// everything is decided and durable: to FILE (appended; a FIFO or /dev/fd/N work
        /// too), or `-` for standard output, before the summary.
        #[arg(long, value_name = "FILE")]
        acks: Option<PathBuf>,
        /// The command file, or `-` (the default) for standard input.
        input: Option<PathBuf>,
    },
    /// Show one merchant, anchor, provider, session or festival day.
    Show {
        #[arg(long)]
        data: PathBuf,
        kind: cmd::show::Kind,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Price a cart for a user at a time: the best combination of the user's coupons,
    /// red-packet money and the active promotions under the festival's stacking policy.
    /// Changes nothing.
    Quote {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        user: String,
        /// RFC 3339 time the cart is priced at.
        #[arg(long)]
        at: String,
        /// A JSON array of {"merchant","sku","qty","price"} lines, or `-` for stdin.
        cart: PathBuf,
    },
    /// One board of a ranking contest or challenge, live: the top N, the entrants around
    /// one, a list of entrants, or the page after a cursor; with provisional rewards and
    /// the gap to the next reward band.
    Leaderboard {
        #[arg(long)]
        data: PathBuf,
        /// The contest or challenge id.
        race: String,
        /// How many ranks (default 20; with --around, how many either side, default 5).
        #[arg(long)]
        top: Option<usize>,
        /// The entrants around this one.
        #[arg(long)]
        around: Option<String>,
        /// Only these entrants (comma-separated ids), in rank order.
        #[arg(long)]
        owners: Option<String>,
        /// The page after this cursor (printed under the previous page).
        #[arg(long)]
        after: Option<String>,
        /// The festival day of a daily board, YYYY-MM-DD (default: the latest day).
        #[arg(long)]
        day: Option<String>,
        /// The category of a board by category.
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One participant in every contest and challenge: rank, score, gates, progress to
    /// targets, provisional rewards, and its heat value by day.
    Progress {
        #[arg(long)]
        data: PathBuf,
        participant: String,
        /// merchant, anchor or provider, when the id is registered in several roles.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        #[arg(long)]
        json: bool,
    },
    /// Check a lottery's published draw record (`dacu show lottery ID` output).
    VerifyDraw {
        /// The record file, or `-` for stdin.
        file: PathBuf,
    },
    /// The review (复盘) of one live session: bring in → keep → convert, the benefits given,
    /// the top products and the minute-by-minute curve with its highlights.
    Review {
        #[arg(long)]
        data: PathBuf,
        session: String,
        #[arg(long)]
        json: bool,
        /// How many products to list, best-selling (by paid amount) first.
        #[arg(long, default_value_t = dacu_core::review::TOP_PRODUCTS)]
        top: usize,
    },
    /// The festival report: GMV by channel, brand tier and anchor tier, providers, SKA
    /// brands, incentives against budgets, programs, consumer benefits, traffic granted,
    /// the source's figures, and year-on-year multiples against a baseline.
    Report {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
        /// Also write the report as one self-contained HTML file with charts.
        #[arg(long)]
        html: Option<PathBuf>,
        /// The previous festival: its data directory, or a JSON file of its figures.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// A reference period for figures about a month outside the festival (the July of
        /// the 116 festival): its data directory, or a JSON file of its anchor-tier shares.
        #[arg(long)]
        reference: Option<PathBuf>,
        /// SKA GMV thresholds in fen, comma-separated (default: the festival's figures').
        #[arg(long)]
        ska_thresholds: Option<String>,
    },
    /// Settle: close the boards, challenges and programs whose windows ended by --at, pay
    /// each entrant its band's rewards within the tracks' budgets (pro rata when a budget
    /// is short), and claw back what later refunds and violations took away. Recorded in
    /// the log; settling again with nothing new records nothing.
    Settle {
        #[arg(long)]
        data: PathBuf,
        /// RFC 3339 time to settle as of (default: the latest time the log records).
        #[arg(long)]
        at: Option<String>,
        /// The settle command's id (default: settle-N).
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The payout ledger: one CSV row per line (award or clawback), or JSON with the
    /// settlements and the budgets.
    Ledger {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
        /// Only the lines of this settlement (1, 2, …).
        #[arg(long)]
        settlement: Option<u32>,
    },
    /// Explain one payout: the contest or challenge, window, value, rank, band, rule,
    /// budget scaling, clawbacks, and the days and orders that contributed.
    Explain {
        #[arg(long)]
        data: PathBuf,
        /// A payout id, RACE[@DAY][#GROUP]:PARTICIPANT (as `dacu ledger` lists them).
        payout: String,
        #[arg(long)]
        json: bool,
        /// How many contributing orders to list, the largest first (0: all).
        #[arg(long, default_value_t = 20)]
        orders: usize,
    },
    /// Print the state digest (SHA-256 of the canonical state) of a data directory.
    Digest {
        #[arg(long)]
        data: PathBuf,
    },
    /// Rebuild the state from the log alone and compare its digest with the state the
    /// directory serves (snapshot + tail). Exits 1 on a mismatch.
    Verify {
        #[arg(long)]
        data: PathBuf,
    },
    /// Write a seeded synthetic festival as a command stream (what `ingest` reads).
    Simulate {
        /// The festival file (with --profile: by default the one the profile is calibrated
        /// for, built in).
        #[arg(long, required_unless_present = "profile")]
        festival: Option<PathBuf>,
        /// A calibrated world (docs/simulator.md): kuaishou-2021, kuaishou-2020 (its
        /// baseline) or kuaishou-2021-07 (its July reference).
        #[arg(long)]
        profile: Option<String>,
        /// small (~20k commands, plus one impression line per supply node with `[traffic]`: ~44k
        /// for the 116 file), medium (~1M), large (~50M), or a number of commands. With
        /// --profile: `full`, or `1/K` (one simulated buyer stands for K; default 1/100).
        #[arg(long)]
        scale: Option<String>,
        #[arg(long, default_value_t = 116)]
        seed: u64,
        /// Output file, or `-` (the default) for standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// festival (live rooms, viewers, orders, refunds) or orders (orders and refunds only).
        #[arg(long, value_enum, default_value_t = cmd::simulate::MixArg::Festival)]
        mix: cmd::simulate::MixArg,
        /// The impression supply's forecast error with `[traffic]`: each slot's hour
        /// arrives at 100 ± this percent of its forecast (0 to 100).
        #[arg(long, default_value_t = dacu_sim::TRAFFIC_ERROR_PCT)]
        traffic_error_pct: u64,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Serve the festival engine over HTTP/JSON (docs/api.md): commands, resource
    /// endpoints, reads, tokens, metrics. SIGTERM stops it cleanly.
    Serve {
        /// The data directory; created from --festival on first use. With --log, the
        /// node's own directory (its lock and tokens), created when missing or empty.
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        festival: Option<PathBuf>,
        /// The event log in a NATS JetStream stream, nats://HOST:PORT[/STREAM]
        /// (docs/scale-out.md), instead of the data directory's files.
        #[arg(long, value_name = "URL")]
        log: Option<String>,
        /// With --log: a read replica that follows the stream, serves every read and
        /// redirects writes to the leader, and never leads (setting `log.replica`).
        #[arg(long, requires = "log")]
        replica: bool,
        /// Where to listen (default 127.0.0.1:7116; port 0 picks a free one).
        #[arg(long)]
        listen: Option<String>,
        /// The settings file (TOML; docs/api.md lists every key and its default).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override one setting: section.key=VALUE (repeatable; applied last).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// API tokens for `dacu serve`.
    Token {
        #[command(subcommand)]
        what: cmd::token::What,
    },
    /// Measure dacu on simulated workloads (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: cmd::bench::What,
    },
    /// Print the table of rejection codes.
    Codes {
        #[arg(long)]
        json: bool,
    },
    /// The 116 festival end to end: simulate its activity, ingest it durably into a fresh
    /// data directory, print the report and the top of the boards.
    Demo {
        /// Where to put the data directory (default: ~/.local/share/dacu/demo).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The calibrated rehearsal at `1/K` (one simulated buyer stands for K) or `full`;
        /// or the generic festival at small, medium, large or a number of commands
        /// (docs/simulator.md). Default 1/400.
        #[arg(long)]
        scale: Option<String>,
        #[arg(long, default_value_t = 116)]
        seed: u64,
        /// No progress bars or commentary: the report only.
        #[arg(long)]
        quiet: bool,
        /// A rehearsal you can watch: play the festival through `dacu serve` on an
        /// accelerated clock and serve the console while it runs (docs/console.md).
        #[arg(long)]
        serve: bool,
        /// With --serve: real minutes the whole festival takes.
        #[arg(long, default_value_t = 3.0)]
        minutes: f64,
        /// With --serve: where to listen (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:7116")]
        listen: String,
        /// With --serve: stop once the festival is settled, rather than serve until Ctrl-C.
        #[arg(long)]
        exit: bool,
    },
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`dacu report | head`) like other Unix tools, rather
    // than panicking inside println!.
    #[cfg(unix)]
    #[allow(unsafe_code, reason = "FFI: signal(2); the workspace denies unsafe code elsewhere")]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Crash tests only: fail points named in the FAILPOINTS environment variable.
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let cli = Cli::parse();
    let opts = dacu_log::Options {
        recovery: match cli.recovery {
            RecoveryArg::Strict => dacu_log::Recovery::Strict,
            RecoveryArg::TruncateCorrupt => dacu_log::Recovery::TruncateCorrupt,
        },
        ..dacu_log::Options::default()
    };
    let result = match cli.command {
        Cmd::Check { file, json } => cmd::check::run(&file, json),
        Cmd::Ingest { data, festival, strict, commit_ms, acks, input } => cmd::ingest::run(
            cmd::ingest::Args {
                data: &data,
                festival: festival.as_deref(),
                input: input.as_deref(),
                strict,
                commit_ms,
                acks: acks.as_deref(),
            },
            opts,
        ),
        Cmd::Show { data, kind, id, json } => cmd::show::run(&data, kind, &id, json, opts),
        Cmd::Quote { data, user, at, cart } => cmd::quote::run(&data, &user, &at, &cart, opts),
        Cmd::Leaderboard { data, race, top, around, owners, after, day, group, json } => cmd::leaderboard::run(
            &data,
            cmd::leaderboard::Args { race, top, around, owners, after, day, group, json },
            opts,
        ),
        Cmd::Progress { data, participant, role, json } => {
            cmd::progress::run(&data, &participant, role.map(Into::into), json, opts)
        }
        Cmd::VerifyDraw { file } => cmd::verify_draw::run(&file),
        Cmd::Review { data, session, json, top } => cmd::review::run(&data, &session, json, top, opts),
        Cmd::Report { data, json, html, baseline, reference, ska_thresholds } => {
            cmd::report::run(&data, cmd::report::Args { json, html, baseline, reference, ska_thresholds }, opts)
        }
        Cmd::Settle { data, at, id, json } => cmd::settle::run(&data, at.as_deref(), id, json, opts),
        Cmd::Ledger { data, json, settlement } => cmd::ledger::run(&data, json, settlement, opts),
        Cmd::Explain { data, payout, json, orders } => cmd::explain::run(&data, &payout, json, orders, opts),
        Cmd::Digest { data } => cmd::digest::run(&data, opts),
        Cmd::Verify { data } => cmd::verify::run(&data, opts),
        Cmd::Simulate { festival, profile: Some(profile), scale, seed, out, quiet, .. } => {
            cmd::simulate::run_profile(&profile, festival.as_deref(), scale.as_deref(), seed, out.as_deref(), quiet)
        }
        Cmd::Simulate { festival, profile: None, scale, seed, mix, traffic_error_pct, out, quiet } => {
            let opts = dacu_sim::Options { seed, mix: mix.into(), traffic_error_pct };
            let festival = festival.expect("clap requires --festival without --profile");
            cmd::simulate::run(&festival, scale.as_deref().unwrap_or("small"), opts, out.as_deref(), quiet)
        }
        Cmd::Serve { data, festival, log, replica, listen, config, mut set } => {
            if replica {
                set.push("log.replica=true".into());
            }
            cmd::serve::run(cmd::serve::Args { data, festival, log, listen, config, set }, opts)
        }
        Cmd::Token { what } => cmd::token::run(what),
        Cmd::Bench { what } => cmd::bench::run(what),
        Cmd::Codes { json } => cmd::codes::run(json),
        Cmd::Demo { data, scale, seed, serve: true, minutes, listen, exit, .. } => {
            let scale = scale.unwrap_or_else(|| cmd::demo::SCALE.into());
            cmd::rehearse::run(cmd::rehearse::Args { data, scale, seed, minutes, listen, exit })
        }
        Cmd::Demo { data, scale, seed, quiet, .. } => {
            cmd::demo::run(data, scale.as_deref().unwrap_or(cmd::demo::SCALE), seed, quiet)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dacu: {e:#}");
            ExitCode::from(2)
        }
    }
}
