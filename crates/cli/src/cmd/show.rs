use dacu_core::market::view as market;
use dacu_core::view;
use dacu_core::Day;
use std::path::Path;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Merchant,
    Anchor,
    Provider,
    Session,
    /// A festival day, YYYY-MM-DD (Asia/Shanghai).
    Day,
    /// A user's wallet: coupons and red-packet money (JSON).
    Wallet,
    /// A coupon: stock, claims, redemptions, budget (JSON).
    Coupon,
    /// A red packet: shares, grabs, leftover (JSON).
    RedPacket,
    /// A group of a group deal (JSON).
    Group,
    /// A lottery's published record (JSON; the `dacu verify-draw` input once drawn).
    Lottery,
    /// A checkout: its quote, state and refund returns (JSON).
    Checkout,
    /// A guaranteed-traffic contract: delivered against promised, its daily curve against
    /// the target curve.
    Contract,
}

pub fn run(data: &Path, kind: Kind, id: &str, json: bool, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let (f, st) = (dir.festival(), dir.engine().state());
    let value = match kind {
        Kind::Merchant => view::merchant(f, st, id).map(serde_json::to_value),
        Kind::Anchor => view::anchor(f, st, id).map(serde_json::to_value),
        Kind::Provider => view::provider(f, st, id).map(serde_json::to_value),
        Kind::Session => view::session(f, st, id).map(serde_json::to_value),
        Kind::Day => match Day::parse(id) {
            Some(d) => Some(serde_json::to_value(view::day(st, d))),
            None => anyhow::bail!("`{id}` is not a date; give a festival day as YYYY-MM-DD"),
        },
        Kind::Wallet => Ok(market::wallet(st, id)).transpose(),
        Kind::Coupon => Ok(market::coupon(st, id)).transpose(),
        Kind::RedPacket => Ok(market::packet(st, id)).transpose(),
        Kind::Group => Ok(market::group(st, id)).transpose(),
        Kind::Lottery => Ok(market::lottery(st, id)).transpose(),
        Kind::Checkout => Ok(market::checkout(st, id)).transpose(),
        Kind::Contract => dacu_core::traffic::view::contract(f, st, id).map(serde_json::to_value),
    };
    let structured =
        matches!(kind, Kind::Wallet | Kind::Coupon | Kind::RedPacket | Kind::Group | Kind::Lottery | Kind::Checkout);
    let Some(value) = value.transpose()? else {
        let what = match kind {
            Kind::Merchant => "merchant",
            Kind::Anchor => "anchor",
            Kind::Provider => "provider",
            Kind::Session => "session",
            Kind::Day => "day",
            Kind::Wallet => "user",
            Kind::Coupon => "coupon",
            Kind::RedPacket => "red packet",
            Kind::Group => "group",
            Kind::Lottery => "lottery",
            Kind::Checkout => "checkout",
            Kind::Contract => "traffic contract",
        };
        eprintln!("dacu: no {what} `{id}` in {}", data.display());
        return Ok(ExitCode::from(1));
    };
    if json || structured {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_plain(&value, "");
    }
    Ok(ExitCode::SUCCESS)
}

/// `key: value` lines, nested objects indented; money fields (`*gmv*`, `refunded`) in yuan.
fn print_plain(v: &serde_json::Value, indent: &str) {
    if let serde_json::Value::Object(map) = v {
        for (k, x) in map {
            match x {
                serde_json::Value::Object(_) => {
                    println!("{indent}{k}:");
                    print_plain(x, &format!("{indent}  "));
                }
                serde_json::Value::Number(n) if k.contains("gmv") || k == "refunded" => {
                    println!("{indent}{k}: {}", dacu_core::Fen(n.as_i64().unwrap_or(0)));
                }
                serde_json::Value::Null => println!("{indent}{k}: -"),
                serde_json::Value::String(s) => println!("{indent}{k}: {s}"),
                other => println!("{indent}{k}: {other}"),
            }
        }
    }
}
