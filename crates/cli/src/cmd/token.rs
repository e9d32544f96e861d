//! `dacu token`: API tokens for `dacu serve`, managed while the directory is not served.

use anyhow::Context;
use dacu_server::tokens::{self, Role, Tokens};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum What {
    /// Create a token and print it (it is shown once; the directory keeps only its hash).
    Create {
        #[arg(long)]
        data: std::path::PathBuf,
        /// The node's log stream, as `dacu serve --log` takes it: the token is then the
        /// stream's, good on every node serving it, and DIR is this node's own directory,
        /// created when missing or empty (docs/scale-out.md).
        #[arg(long, value_name = "URL")]
        log: Option<String>,
        /// operator, integration or participant.
        #[arg(long)]
        role: String,
        /// For a participant token: the participant's id.
        #[arg(long)]
        participant: Option<String>,
        /// For a participant token: merchant (a brand too), anchor or provider.
        #[arg(long)]
        participant_role: Option<String>,
        /// How long it lives: 90s, 30m, 12h, 7d (default: until revoked).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List the tokens (ids, roles, participants, times; never the tokens).
    List {
        #[arg(long)]
        data: std::path::PathBuf,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        data: std::path::PathBuf,
        id: String,
    },
}

pub fn run(what: What) -> anyhow::Result<ExitCode> {
    match what {
        What::Create { data, log, role, participant, participant_role, expires } => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role is operator, integration or participant, got `{role}`"))?;
            let participant = match (participant, participant_role.as_deref()) {
                (Some(p), Some(r)) => Some((
                    tokens::participant_role(r).ok_or_else(|| {
                        anyhow::anyhow!("--participant-role is merchant, anchor or provider, got `{r}`")
                    })?,
                    p,
                )),
                (None, None) => None,
                _ => anyhow::bail!("a participant token needs both --participant and --participant-role"),
            };
            let lifetime = expires.as_deref().map(tokens::parse_duration_s).transpose().map_err(anyhow::Error::msg)?;
            let create = |ts: &mut Tokens| ts.create(role, participant.clone(), lifetime, usize::MAX);
            let (token, _) = match log {
                Some(url) => change_stream(&data, &url, create)?,
                None => change(&data, create)?,
            };
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        What::List { data } => {
            let _lock = lock(&data)?;
            let ts = Tokens::load(&data).map_err(anyhow::Error::msg)?;
            println!("{}", serde_json::to_string_pretty(&ts.tokens)?);
            Ok(ExitCode::SUCCESS)
        }
        What::Revoke { data, id } => {
            let found = change(&data, |ts| Ok(ts.revoke(&id)))?;
            if !found {
                eprintln!("dacu: no live token `{id}` in {}", data.display());
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A new token for a directory nothing serves yet (the rehearsal's own).
pub fn create(
    data: &Path,
    role: Role,
    participant: Option<(dacu_core::festival::Role, String)>,
) -> anyhow::Result<String> {
    change(data, |ts| ts.create(role, participant, None, usize::MAX)).map(|(t, _)| t)
}

/// The directory's lock: tokens change only while nothing serves it.
fn lock(data: &Path) -> anyhow::Result<std::fs::File> {
    anyhow::ensure!(
        data.join(dacu_log::FESTIVAL_FILE).exists() || dacu_jetstream::node_dir::is_node_dir(data),
        "{} is not a dacu data directory (nor a node directory of `dacu serve --log`)",
        data.display()
    );
    dacu_log::dir::lock_exclusive(data).with_context(|| {
        format!(
            "cannot change the tokens of {}: stop `dacu serve` first, or use the API (POST /v1/tokens)",
            data.display()
        )
    })
}

/// A stream's tokens (`--log`): DIR becomes, or is, the stream's node directory, and the
/// tokens are the stream's bucket's (crates/jetstream/src/tokens.rs), changed by
/// compare-and-set and redone if a node changed them meanwhile.
fn change_stream<T>(data: &Path, url: &str, f: impl Fn(&mut Tokens) -> Result<T, String>) -> anyhow::Result<T> {
    let url = dacu_jetstream::LogUrl::parse(url).map_err(|e| anyhow::anyhow!("--log: {e}"))?;
    let _lock = dacu_jetstream::node_dir::open(data, &url).with_context(|| {
        format!("cannot change the tokens through {}: stop its `dacu serve` first, or use the API", data.display())
    })?;
    let bucket = dacu_jetstream::tokens::Bucket::open(&url, &dacu_jetstream::StreamOptions::default())?;
    let mut last = String::new();
    for _ in 0..3 {
        let read = bucket.read_blocking().map_err(anyhow::Error::msg)?;
        let mut ts: Tokens = match &read.json {
            Some(j) => serde_json::from_slice(j).context("the tokens bucket")?,
            None => Tokens::load(data).map_err(anyhow::Error::msg)?,
        };
        let out = f(&mut ts).map_err(anyhow::Error::msg)?;
        match bucket.write_blocking(serde_json::to_vec_pretty(&ts)?, read.revision) {
            Ok(_) => return Ok(out),
            Err(e) => last = e,
        }
    }
    anyhow::bail!("{last}")
}

fn change<T>(data: &Path, f: impl FnOnce(&mut Tokens) -> Result<T, String>) -> anyhow::Result<T> {
    let _lock = lock(data)?;
    let mut ts = Tokens::load(data).map_err(anyhow::Error::msg)?;
    let out = f(&mut ts).map_err(anyhow::Error::msg)?;
    ts.save(data).map_err(anyhow::Error::msg)?;
    Ok(out)
}
