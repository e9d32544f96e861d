//! `dacu bench quote|grabs|claims`: the marketing tools in-engine (one core, commands
//! already parsed, no log); the Redis Lua designs for grabs and claims beside them are in
//! crate::cmd::baseline.

use super::bench::quantile;
use dacu_core::market::CartLine;
use dacu_core::{festival, parse_line, Command, Engine, Ts};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const AT: &str = "2021-11-11T20:30:00+08:00";

pub(crate) fn engine(festival_file: &Path) -> anyhow::Result<Engine> {
    let text = std::fs::read_to_string(festival_file)?;
    let f = festival::parse(&text).map_err(|p| anyhow::anyhow!("invalid festival file: {} problem(s)", p.len()))?;
    Ok(Engine::new(Arc::new(f)))
}

pub(crate) fn exec_line(e: &mut Engine, line: &str) -> anyhow::Result<()> {
    exec(e, line)
}

fn exec(e: &mut Engine, line: &str) -> anyhow::Result<()> {
    let c = parse_line(line).map_err(|r| anyhow::anyhow!("{line}: {r}"))?;
    e.execute(&c, &mut Vec::new()).map_err(|r| anyhow::anyhow!("{line}: {r}"))
}

/// The quote workload: 3 merchants, a 10-line cart, 30 candidate promotions — 10 price
/// cuts (one per line), 6 store 满减 (2 per merchant), 6 store coupons in the wallet
/// (2 per merchant), 2 cross-store 满减, 4 platform and category coupons, 2 red packets.
fn quote_setup(e: &mut Engine) -> anyhow::Result<Vec<Vec<CartLine>>> {
    let (st, en) = ("2021-11-01T00:00:00+08:00", "2021-11-12T00:00:00+08:00");
    let mut n = 0;
    let mut id = || {
        n += 1;
        n
    };
    for (m, cat) in [("m1", "beauty"), ("m2", "food"), ("m3", "beauty")] {
        exec(
            e,
            &format!(
                r#"{{"type":"register_merchant","merchant":"{m}","name":"{m}","brand_tier":"ka","category":"{cat}"}}"#
            ),
        )?;
        for (k, (t1, t2)) in [((19900, 2000), (29900, 4000)), ((50000, 6000), (100000, 15000))].iter().enumerate() {
            exec(
                e,
                &format!(
                    r#"{{"type":"create_fullcut","id":"b{}","fullcut":"{m}-f{k}","scope":"store","merchant":"{m}","tiers":[[{},{}],[{},{}]],"start":"{st}","end":"{en}","at":"{st}"}}"#,
                    id(),
                    t1.0,
                    t1.1,
                    t2.0,
                    t2.1
                ),
            )?;
        }
        for (k, (th, off)) in [(9900, 1000), (30000, 5000)].iter().enumerate() {
            exec(
                e,
                &format!(
                    r#"{{"type":"create_coupon","id":"b{}","coupon":"{m}-c{k}","issuer":"merchant:{m}","scope":"store","merchant":"{m}","threshold":{th},"off":{off},"stock":1000,"claim_from":"{st}","claim_until":"{en}","valid_days":7,"at":"{st}"}}"#,
                    id()
                ),
            )?;
            exec(
                e,
                &format!(
                    r#"{{"type":"claim_coupon","id":"b{}","coupon":"{m}-c{k}","user":"buyer","at":"{st}"}}"#,
                    id()
                ),
            )?;
        }
    }
    let skus: Vec<(&str, String)> = (0..10)
        .map(|i| {
            (
                ["m1", "m2", "m3"][if i < 4 {
                    0
                } else if i < 7 {
                    1
                } else {
                    2
                }],
                format!("k{i}"),
            )
        })
        .collect();
    for (m, k) in &skus {
        exec(
            e,
            &format!(
                r#"{{"type":"create_price_cut","id":"b{}","cut":"{m}-{k}","merchant":"{m}","sku":"{k}","off":500,"start":"{st}","end":"{en}","at":"{st}"}}"#,
                id()
            ),
        )?;
    }
    exec(
        e,
        &format!(
            r#"{{"type":"create_fullcut","id":"b{}","fullcut":"x300","scope":"cross_store","every":30000,"off":4000,"platform_share_bp":5000,"start":"{st}","end":"{en}","at":"{st}"}}"#,
            id()
        ),
    )?;
    exec(
        e,
        &format!(
            r#"{{"type":"create_fullcut","id":"b{}","fullcut":"x1000","scope":"cross_store","merchants":["m1","m3"],"tiers":[[100000,15000]],"platform_share_bp":10000,"start":"{st}","end":"{en}","at":"{st}"}}"#,
            id()
        ),
    )?;
    for (k, body) in [
        r#""scope":"platform","threshold":19900,"off":2000"#,
        r#""scope":"platform","threshold":0,"percent_bp":500,"cap":5000"#,
        r#""scope":"category","category":"beauty","threshold":15000,"off":3000"#,
        r#""scope":"category","category":"food","percent_bp":1000,"cap":2000"#,
    ]
    .iter()
    .enumerate()
    {
        exec(
            e,
            &format!(
                r#"{{"type":"create_coupon","id":"b{}","coupon":"p{k}","issuer":"platform",{body},"stock":1000,"claim_from":"{st}","claim_until":"{en}","valid_days":7,"at":"{st}"}}"#,
                id()
            ),
        )?;
        exec(e, &format!(r#"{{"type":"claim_coupon","id":"b{}","coupon":"p{k}","user":"buyer","at":"{st}"}}"#, id()))?;
    }
    exec(e, r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":10}"#)?;
    exec(e, r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-11T20:00:00+08:00"}"#)?;
    exec(e, r#"{"type":"viewer_enter","session":"s1","user":"buyer","at":"2021-11-11T20:00:00+08:00"}"#)?;
    for (p, usable) in [("rp1", ""), ("rp2", r#","usable_merchant":"m2""#)] {
        exec(
            e,
            &format!(
                r#"{{"type":"create_red_packet","id":"b{}","packet":"{p}","session":"s1","issuer":"platform","total":800,"count":1,"split":"even","seed":0{usable},"opens_at":"2021-11-11T20:00:00+08:00","expires_at":"2021-11-11T23:00:00+08:00","at":"2021-11-11T20:00:00+08:00"}}"#,
                id()
            ),
        )?;
        exec(
            e,
            &format!(
                r#"{{"type":"grab_red_packet","id":"b{}","packet":"{p}","user":"buyer","at":"2021-11-11T20:01:00+08:00"}}"#,
                id()
            ),
        )?;
    }
    // 64 carts: the same goods at varied quantities and prices, so thresholds fall
    // differently from cart to cart.
    let mut rng = dacu_core::promo::SplitMix64(116);
    Ok((0..64)
        .map(|_| {
            skus.iter()
                .map(|(m, k)| CartLine {
                    merchant: m.to_string(),
                    sku: k.clone(),
                    qty: 1 + (rng.next_u64() % 3) as i64,
                    price: [990, 2990, 4990, 9900, 19900][(rng.next_u64() % 5) as usize],
                })
                .collect()
        })
        .collect())
}

pub fn quote(festival_file: &Path, iterations: u64) -> anyhow::Result<ExitCode> {
    let mut e = engine(festival_file)?;
    let carts = quote_setup(&mut e)?;
    let at = Ts::parse(AT)?;
    let candidates = {
        let q = e.quote("buyer", &carts[0], at).map_err(|r| anyhow::anyhow!("{r}"))?;
        q.discounts.len()
    };
    let mut ns = Vec::with_capacity(iterations as usize);
    let mut checksum = 0i64;
    let t0 = Instant::now();
    for i in 0..iterations {
        let cart = &carts[(i % carts.len() as u64) as usize];
        let t = Instant::now();
        let q = e.quote("buyer", cart, at).map_err(|r| anyhow::anyhow!("{r}"))?;
        ns.push(t.elapsed().as_nanos() as u64);
        checksum = checksum.wrapping_add(q.pay_total);
    }
    let secs = t0.elapsed().as_secs_f64();
    ns.sort_unstable();
    let (p50, p99, max) = (quantile(&ns, 0.5), quantile(&ns, 0.99), *ns.last().unwrap_or(&0));
    println!("quote: 10-line cart, 3 merchants, 30 candidate promotions (first cart applies {candidates} discounts)");
    println!(
        "  {iterations} quotes in {secs:.2} s: {:.0} quotes/s; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        iterations as f64 / secs,
        p50 as f64 / 1e3,
        p99 as f64 / 1e3,
        max as f64 / 1e3
    );
    println!(
        "{}",
        json!({"bench": "quote", "quotes": iterations, "seconds": secs, "p50_us": p50 as f64 / 1e3, "p99_us": p99 as f64 / 1e3, "max_us": max as f64 / 1e3, "checksum": checksum})
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn parsed(lines: impl Iterator<Item = String>) -> anyhow::Result<Vec<Command>> {
    lines.map(|l| parse_line(&l).map_err(|r| anyhow::anyhow!("{l}: {r}"))).collect()
}

pub(crate) fn time_execute(e: &mut Engine, cmds: &[Command]) -> anyhow::Result<f64> {
    let mut out = Vec::new();
    let t0 = Instant::now();
    for c in cmds {
        out.clear();
        e.execute(c, &mut out).map_err(|r| anyhow::anyhow!("{r}"))?;
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// `count` red-packet grabs: packets of 100,000 shares in one live room of 100,000
/// viewers; each viewer grabs each packet once.
pub fn grabs(festival_file: &Path, count: u64, baselines: &str) -> anyhow::Result<ExitCode> {
    let baselines = super::baseline::wanted(baselines, &["redis"], "grabs")?;
    let mut e = engine(festival_file)?;
    let viewers = 100_000u64.min(count);
    let packets = count.div_ceil(viewers);
    exec(&mut e, r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":10}"#)?;
    exec(&mut e, r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-11T20:00:00+08:00"}"#)?;
    let setup = parsed((0..viewers).map(|u| {
        format!(r#"{{"type":"viewer_enter","session":"s1","user":"u{u}","at":"2021-11-11T20:00:00+08:00"}}"#)
    }))?;
    time_execute(&mut e, &setup)?;
    for p in 0..packets {
        exec(
            &mut e,
            &format!(
                r#"{{"type":"create_red_packet","id":"c{p}","packet":"rp{p}","session":"s1","issuer":"platform","total":{},"count":{viewers},"split":"double_mean","seed":{p},"opens_at":"2021-11-11T20:00:00+08:00","expires_at":"2021-11-11T23:00:00+08:00","at":"2021-11-11T20:00:00+08:00"}}"#,
                viewers * 200
            ),
        )?;
    }
    let cmds = parsed((0..count).map(|i| {
        let (p, u) = (i / viewers, i % viewers);
        format!(r#"{{"type":"grab_red_packet","id":"g{i}","packet":"rp{p}","user":"u{u}","at":"2021-11-11T20:05:00+08:00"}}"#)
    }))?;
    let secs = time_execute(&mut e, &cmds)?;
    let granted: i64 = e.state().market.packets.iter().map(|p| p.granted.0).sum();
    anyhow::ensure!(
        granted == (viewers * 200 * packets) as i64 || !count.is_multiple_of(viewers),
        "grabs did not empty the packets"
    );
    let rate = count as f64 / secs;
    println!(
        "red-packet grabs in-engine: {count} in {secs:.2} s = {rate:.0} grabs/s ({packets} packets × {viewers} shares)"
    );
    let mut out = json!({"bench": "grabs", "grabs": count, "seconds": secs, "per_second": rate});
    if baselines.contains(&"redis") {
        let (rs, rrate) = super::baseline::redis_grabs(count, viewers, packets)?;
        println!("  redis Lua (LPOP a pre-split list + SADD grabbers, EVALSHA pipelined 1,000): {count} in {rs:.2} s = {rrate:.0} grabs/s; dacu ÷ redis = {:.1}×", rate / rrate);
        out["redis_per_second"] = json!(rrate);
        out["ratio_to_redis"] = json!(rate / rrate);
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// `count` coupon claims: one coupon of ample stock, one claim per user.
pub fn claims(festival_file: &Path, count: u64, baselines: &str) -> anyhow::Result<ExitCode> {
    let baselines = super::baseline::wanted(baselines, &["redis"], "claims")?;
    let mut e = engine(festival_file)?;
    exec(
        &mut e,
        &format!(
            r#"{{"type":"create_coupon","id":"c0","coupon":"p20","issuer":"platform","scope":"platform","threshold":19900,"off":2000,"stock":{count},"per_user":1,"claim_from":"2021-11-01T00:00:00+08:00","claim_until":"2021-11-12T00:00:00+08:00","valid_days":3,"at":"2021-11-01T00:00:00+08:00"}}"#
        ),
    )?;
    let cmds = parsed((0..count).map(|i| {
        format!(
            r#"{{"type":"claim_coupon","id":"k{i}","coupon":"p20","user":"u{i}","at":"2021-11-11T20:00:00+08:00"}}"#
        )
    }))?;
    let secs = time_execute(&mut e, &cmds)?;
    anyhow::ensure!(e.state().market.coupons[0].claimed == count, "not every claim landed");
    let rate = count as f64 / secs;
    println!("coupon claims in-engine: {count} in {secs:.2} s = {rate:.0} claims/s");
    let mut out = json!({"bench": "claims", "claims": count, "seconds": secs, "per_second": rate});
    if baselines.contains(&"redis") {
        let (rs, rrate) = super::baseline::redis_claims(count)?;
        println!("  redis Lua (per-user HINCRBY + DECR stock + RPUSH wallet, EVALSHA pipelined 1,000): {count} in {rs:.2} s = {rrate:.0} claims/s; dacu ÷ redis = {:.1}×", rate / rrate);
        out["redis_per_second"] = json!(rrate);
        out["ratio_to_redis"] = json!(rate / rrate);
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
