//! `dacu quote`: price a cart for a user from the data directory's wallet and active
//! promotions, changing nothing.

use anyhow::Context;
use dacu_core::market::CartLine;
use dacu_core::Ts;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, user: &str, at: &str, cart: &Path, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let at = Ts::parse(at).map_err(|e| anyhow::anyhow!("--at: {e}"))?;
    let mut text = String::new();
    if cart == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(cart).with_context(|| format!("cannot read {}", cart.display()))?;
    }
    let lines: Vec<CartLine> = serde_json::from_str(&text).with_context(|| {
        "the cart must be a JSON array of {\"merchant\", \"sku\", \"qty\", \"price\"} lines (docs/checkout.md)"
    })?;
    let dir = super::open(data, opts)?;
    match dir.engine().quote(user, &lines, at) {
        Ok(q) => {
            println!("{}", serde_json::to_string_pretty(&q)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(r) => {
            eprintln!("{}", serde_json::to_string(&r)?);
            Ok(ExitCode::from(2))
        }
    }
}
