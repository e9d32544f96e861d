//! `dacu verify-draw`: check a lottery's published record (`dacu show lottery`) — the
//! secret matches the commitment and the winners are what docs/lottery.md computes.

use anyhow::Context;
use dacu_core::promo::lottery::{verify, DrawRecord};
use std::path::Path;
use std::process::ExitCode;

#[derive(serde::Deserialize)]
struct Published {
    lottery: String,
    commitment: String,
    secret: Option<String>,
    winners_wanted: u32,
    eligible: Option<Vec<String>>,
    winners: Option<Vec<String>>,
}

pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let p: Published = serde_json::from_str(&text)
        .context("expected a lottery record as `dacu show lottery` prints it (lottery, commitment, secret, winners_wanted, eligible, winners)")?;
    let (Some(secret), Some(eligible), Some(winners)) = (p.secret, p.eligible, p.winners) else {
        anyhow::bail!(
            "lottery `{}` has not been drawn: the record has no secret, eligible list or winners yet",
            p.lottery
        );
    };
    let rec = DrawRecord {
        lottery: p.lottery.clone(),
        commitment: p.commitment,
        secret,
        winners_wanted: p.winners_wanted,
        eligible,
        winners,
    };
    match verify(&rec) {
        Ok(()) => {
            println!(
                "ok: lottery `{}`: the secret matches the commitment and {} winner(s) of {} eligible recompute exactly",
                rec.lottery,
                rec.winners.len(),
                rec.eligible.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("MISMATCH: lottery `{}`: {e}", rec.lottery);
            Ok(ExitCode::from(1))
        }
    }
}
