//! `dacu review`: the 复盘 of one live session (docs/metrics.md defines the figures).

use crate::table::Table;
use dacu_core::money::{fmt_bp, Fen};
use dacu_core::review::{self, Minute, Review};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, session: &str, json: bool, top: usize, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let Some(r) = review::review(dir.engine().state(), session, top) else {
        eprintln!("dacu: no session `{session}` in {}", data.display());
        return Ok(ExitCode::from(1));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render(&r));
    }
    Ok(ExitCode::SUCCESS)
}

/// `1h 02m 03s`, `2m 05s`, `45s` (floored to the second).
fn dur(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

/// `HH:MM` of a time, with the date (`MM-DD HH:MM`) when it is not the session's first day.
fn clock(at: dacu_core::Ts, start: dacu_core::Ts) -> String {
    let t = at.to_rfc3339();
    if at.day() == start.day() {
        t[11..16].to_string()
    } else {
        format!("{} {}", &t[5..10], &t[11..16])
    }
}

fn kv(rows: &[(&str, String)]) -> String {
    let mut t = Table::new(["", "value"]).right(&[1]);
    for (k, v) in rows {
        t.row([k.to_string(), v.clone()]);
    }
    t.render()
}

/// Curve rows: buckets of a round number of minutes, at most 30 rows.
fn bucket_minutes(n: usize) -> usize {
    [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440]
        .into_iter()
        .find(|b| n.div_ceil(*b) <= 30)
        .unwrap_or_else(|| n.div_ceil(30))
}

pub fn render(r: &Review) -> String {
    let mut out = String::new();
    let state = if r.live { format!("live, last event {}", clock(r.last_at, r.start)) } else { "ended".into() };
    out += &format!(
        "复盘 Review of session {} · anchor {} ({}) · {} → {} ({}, {state})\n\n",
        r.session,
        r.anchor,
        r.anchor_name,
        r.start,
        r.end.map_or("now".to_string(), |e| clock(e, r.start)),
        dur(r.duration_s * 1000),
    );
    let b = &r.bring_in;
    out += &format!(
        "进人 Bring in\n{}\n",
        kv(&[
            ("unique viewers", b.unique_viewers.to_string()),
            ("entries", b.entries.to_string()),
            ("peak viewers at a minute's end", b.peak_viewers.to_string()),
            ("peak concurrent (in stream order)", b.peak_concurrent.to_string()),
            ("viewers now", b.viewers_now.to_string()),
            ("new followers", b.new_followers.to_string()),
        ])
    );
    let k = &r.keep;
    let mut rows = vec![
        ("watch time", dur(k.watch_ms)),
        ("average per viewer", dur(k.avg_watch_ms)),
        ("median per viewer", dur(k.median_watch_ms)),
    ];
    for (kind, n) in &k.interactions {
        rows.push((kind, n.to_string()));
    }
    out += &format!("留人 Keep\n{}\n", kv(&rows));
    let c = &r.convert;
    out += &format!(
        "转化 Convert\n{}\n",
        kv(&[
            ("GMV (paid − refunded)", Fen(c.gmv).to_string()),
            ("GMV gross (paid)", Fen(c.gmv_gross).to_string()),
            ("refunded", Fen(c.refunded).to_string()),
            ("orders", c.orders.to_string()),
            ("buyers (of them viewers)", format!("{} ({})", c.buyers, c.viewer_buyers)),
            ("conversion: buyers / viewers", fmt_bp(c.conversion_bp)),
            ("… viewer buyers / viewers", fmt_bp(c.viewer_conversion_bp)),
            ("GPM: GMV per 1,000 entries", Fen(c.gpm).to_string()),
            ("GMV per viewer", Fen(c.gmv_per_viewer).to_string()),
            ("average order value", Fen(c.avg_order_value).to_string()),
        ])
    );
    let f = &r.benefits;
    let mut rows = vec![
        ("checkouts paid", f.checkouts_paid.to_string()),
        ("discounts (returned by refunds)", format!("{} ({})", Fen(f.discounts), Fen(f.discounts_returned))),
    ];
    let by_layer: Vec<(String, String)> =
        f.discounts_by_layer.iter().map(|(l, a)| (format!("… {l}"), Fen(*a).to_string())).collect();
    let by_bearer: Vec<(String, String)> =
        f.discounts_by_bearer.iter().map(|(w, a)| (format!("… borne by {w}"), Fen(*a).to_string())).collect();
    for (l, a) in by_layer.iter().chain(&by_bearer) {
        rows.push((l.as_str(), a.clone()));
    }
    let cp = &f.coupons;
    rows.push(("coupons redeemed, cost", format!("{}, {}", cp.redeemed, Fen(cp.cost))));
    rows.push(("orders with a coupon, their GMV", format!("{}, {}", cp.orders, Fen(cp.orders_gmv))));
    rows.push((
        "session coupons: claimed / redeemed",
        format!("{}: {} / {}", cp.session_coupons, cp.session_coupons_claimed, cp.session_coupons_redeemed),
    ));
    let rp = &f.red_packets;
    rows.push(("red packets: granted / total", format!("{}: {} / {}", rp.count, Fen(rp.granted), Fen(rp.total))));
    rows.push(("… grabbers, returned at expiry", format!("{}, {}", rp.grabbers, Fen(rp.returned))));
    let lt = &f.lotteries;
    rows.push((
        "lotteries drawn, winners, prizes",
        format!("{} of {}, {}, {}", lt.drawn, lt.count, lt.winners, Fen(lt.prize_value)),
    ));
    out += &format!("盘福利 Benefits\n{}\n", kv(&rows));

    let mut t = Table::new(["#", "merchant", "sku", "paid", "qty", "orders"]).right(&[0, 3, 4, 5]);
    for (i, p) in r.top_products.iter().enumerate() {
        t.row([
            (i + 1).to_string(),
            p.merchant.clone(),
            p.sku.clone(),
            Fen(p.paid).to_string(),
            p.qty.to_string(),
            p.orders.to_string(),
        ]);
    }
    out += &format!("盘货品 Top products by paid ({} of {})\n{}\n", r.top_products.len(), r.products, t.render());

    let mut t = Table::new(["moment", "minute", "viewers", "entries", "orders", "GMV"]).right(&[2, 3, 4, 5]);
    let row = |t: &mut Table, label: String, m: &Minute| {
        t.row([
            label,
            clock(m.at, r.start),
            m.viewers.to_string(),
            m.entries.to_string(),
            m.orders.to_string(),
            Fen(m.gmv).to_string(),
        ])
    };
    if let Some(m) = &r.highlights.peak_viewers {
        row(&mut t, "most viewers".into(), m);
    }
    for (i, m) in r.highlights.top_gmv.iter().enumerate() {
        row(&mut t, format!("GMV #{}", i + 1), m);
    }
    out += &format!("盘亮点 Highlights\n{}\n", t.render());

    let size = bucket_minutes(r.curve.len());
    let mut t = Table::new(["from", "viewers at end", "entries", "orders", "GMV"]).right(&[1, 2, 3, 4]);
    for chunk in r.curve.chunks(size) {
        let last = chunk.last().expect("chunks are not empty");
        t.row([
            clock(chunk[0].at, r.start),
            last.viewers.to_string(),
            chunk.iter().map(|m| m.entries).sum::<u64>().to_string(),
            chunk.iter().map(|m| m.orders).sum::<u64>().to_string(),
            Fen(chunk.iter().map(|m| m.gmv).sum()).to_string(),
        ]);
    }
    let per = if size == 1 { "minute".to_string() } else { format!("{size} minutes") };
    out += &format!("Curve, per {per} (`--json` has every minute)\n{}", t.render());
    out
}

/// A title and one table of the headline figures, for the demo.
pub fn render_brief(r: &Review, data: &Path) -> String {
    let (b, k, c, f) = (&r.bring_in, &r.keep, &r.convert, &r.benefits);
    let title = format!(
        "复盘 Review of the best-selling live session, {} (anchor {}, {} {} → {}); in full: dacu review --data {} {}\n",
        r.session,
        r.anchor,
        &r.start.to_rfc3339()[5..10],
        clock(r.start, r.start),
        r.end.map_or("live".to_string(), |e| clock(e, r.start)),
        data.display(),
        r.session,
    );
    let mut rows = vec![
        ("进人 unique viewers / entries / peak", format!("{} / {} / {}", b.unique_viewers, b.entries, b.peak_viewers)),
        ("留人 median watch, interactions", format!("{}, {}", dur(k.median_watch_ms), k.interactions_total)),
        ("转化 buyers, conversion", format!("{}, {}", c.buyers, fmt_bp(c.conversion_bp))),
        ("转化 GMV, GPM", format!("{}, {}", Fen(c.gmv), Fen(c.gpm))),
        ("盘福利 discounts, red packets granted", format!("{}, {}", Fen(f.discounts), Fen(f.red_packets.granted))),
    ];
    if let Some(p) = r.top_products.first() {
        rows.push(("盘货品 top product", format!("{} {}: {}", p.merchant, p.sku, Fen(p.paid))));
    }
    if let Some(m) = r.highlights.top_gmv.first() {
        rows.push(("盘亮点 best minute", format!("{}: {}", clock(m.at, r.start), Fen(m.gmv))));
    }
    if let Some(m) = &r.highlights.peak_viewers {
        rows.push(("盘亮点 most viewers", format!("{}: {}", clock(m.at, r.start), m.viewers)));
    }
    title + &kv(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_buckets() {
        assert_eq!(dur(45_999), "45s");
        assert_eq!(dur(125_000), "2m 05s");
        assert_eq!(dur(3_723_000), "1h 02m 03s");
        assert_eq!(bucket_minutes(31), 2);
        assert_eq!(bucket_minutes(30), 1);
        assert_eq!(bucket_minutes(241), 10);
        assert_eq!(bucket_minutes(100_000), 100_000usize.div_ceil(30));
    }
}
