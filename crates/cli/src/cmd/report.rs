use crate::table::Table;
use anyhow::Context;
use dacu_core::money::{fmt_bp, share_bp, Fen};
use dacu_core::view::{self, fmt_multiple, Baseline, Reference, Report, ReportOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct Args {
    pub json: bool,
    pub html: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub reference: Option<PathBuf>,
    pub ska_thresholds: Option<String>,
}

/// A baseline from a previous festival's data directory, or from a JSON file of figures.
pub fn load_baseline(path: &Path, opts: dacu_log::Options) -> anyhow::Result<Baseline> {
    if path.is_dir() {
        let dir = super::open(path, opts).context("opening the baseline data directory")?;
        return Ok(Baseline::of(&view::report(dir.festival(), dir.engine().state())));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read baseline {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a baseline: give a previous festival's data directory, or a JSON object with \
             \"festival\" and any of gmv_fen, orders, buyers, self_broadcast_gmv_fen, \
             provider_served_self_broadcast_gmv_fen, certified_providers, traffic_impressions, \
             merchant_incentives_fen, provider_incentives_fen, consumer_benefits_fen",
            path.display()
        )
    })
}

/// A reference period (a month outside the festival) from its data directory, or from a
/// JSON file of its anchor-tier shares.
pub fn load_reference(path: &Path, opts: dacu_log::Options) -> anyhow::Result<Reference> {
    if path.is_dir() {
        let dir = super::open(path, opts).context("opening the reference data directory")?;
        return Ok(Reference::of(dir.festival(), dir.engine().state()));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read reference {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a reference: give a data directory, or a JSON object with \"festival\" and \
             \"anchor_tier_share_bp\" ({{\"YYYY-MM\": {{\"tier\": basis points}}}})",
            path.display()
        )
    })
}

/// `--ska-thresholds 10000000000,5000000000` (fen).
pub fn parse_thresholds(s: &str) -> anyhow::Result<Vec<i64>> {
    s.split(',')
        .map(|x| {
            x.trim().replace('_', "").parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                anyhow::anyhow!("--ska-thresholds takes GMV thresholds in fen separated by commas, got `{x}`")
            })
        })
        .collect()
}

pub fn run(data: &Path, a: Args, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let ro = ReportOptions {
        ska_thresholds_fen: a.ska_thresholds.as_deref().map(parse_thresholds).transpose()?,
        baseline: a.baseline.as_deref().map(|p| load_baseline(p, opts.clone())).transpose()?,
        reference: a.reference.as_deref().map(|p| load_reference(p, opts.clone())).transpose()?,
    };
    let dir = super::open(data, opts)?;
    let r = view::report_with(dir.festival(), dir.engine().state(), &ro);
    if let Some(path) = &a.html {
        crate::files::write_file(path, dacu_core::html::render(dir.festival(), &r).as_bytes())?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render(dir.festival(), &r));
        if let Some(path) = &a.html {
            println!("HTML report written to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn money_row(t: &mut Table, label: &str, gmv: i64, whole: i64) {
    t.row([label.to_string(), Fen(gmv).to_string(), fmt_bp(share_bp(gmv, whole))]);
}

pub fn render(f: &dacu_core::Festival, r: &Report) -> String {
    let mut out = String::new();
    out += &format!("{} · {} — festival report ({} events)\n\n", f.festival.name_zh, f.festival.name_en, r.events);
    let mut t = Table::new(["", "value"]).right(&[1]);
    t.row(["GMV (paid − refunded)".into(), Fen(r.gmv).to_string()]);
    t.row(["GMV gross (paid)".into(), Fen(r.gmv_gross).to_string()]);
    t.row(["refunded".into(), Fen(r.refunded).to_string()]);
    t.row(["orders".into(), r.orders.to_string()]);
    t.row(["buyers".into(), r.buyers.to_string()]);
    t.row(["merchants".into(), r.merchants.to_string()]);
    t.row(["anchors".into(), r.anchors.to_string()]);
    t.row(["live sessions".into(), r.sessions.to_string()]);
    out += &format!("Totals\n{}\n", t.render());

    let mut t = Table::new(["channel", "GMV", "share"]).right(&[1, 2]);
    for (c, label) in [("live", "live room 直播间"), ("shelf", "shelf 货架")] {
        money_row(&mut t, label, r.gmv_by_channel[c], r.gmv);
    }
    out += &format!("By channel\n{}\n", t.render());

    let mut t = Table::new(["brand tier", "GMV", "share"]).right(&[1, 2]);
    for (k, g) in &r.gmv_by_brand_tier {
        money_row(&mut t, k, *g, r.gmv);
    }
    out += &format!("By brand tier\n{}\n", t.render());

    let mut t = Table::new(["anchor tier", "GMV", "share of anchor GMV"]).right(&[1, 2]);
    for tier in f.anchor_tier_ids() {
        if let Some(x) = r.anchor_tier_share.get(tier) {
            t.row([tier.to_string(), Fen(x.gmv).to_string(), fmt_bp(x.share_bp)]);
        }
    }
    out += &format!("By anchor tier\n{}\n", t.render());

    let mut t = Table::new(["", "value"]).right(&[1]);
    t.row(["brand self-broadcast GMV 品牌自播".into(), Fen(r.self_broadcast_gmv).to_string()]);
    t.row(["… of it by provider-served merchants".into(), Fen(r.provider_served_self_broadcast_gmv).to_string()]);
    t.row(["… provider-served share".into(), fmt_bp(r.provider_served_self_broadcast_share_bp)]);
    t.row(["GMV of provider-served merchants".into(), Fen(r.provider_served_gmv).to_string()]);
    t.row(["providers (certified)".into(), format!("{} ({})", r.providers, r.certified_providers)]);
    t.row([
        "merchants served by providers".into(),
        format!("{} ({})", r.merchants_served_by_providers, fmt_bp(r.merchants_served_share_bp)),
    ]);
    out += &format!("Service providers\n{}\n", t.render());

    for (title, list) in
        [("Top merchants", &r.top_merchants), ("Top anchors", &r.top_anchors), ("Top providers", &r.top_providers)]
    {
        let mut t = Table::new(["#", "id", "name", "GMV"]).right(&[0, 3]);
        for (i, x) in list.iter().enumerate() {
            t.row([(i + 1).to_string(), x.id.clone(), x.name.clone(), Fen(x.gmv).to_string()]);
        }
        out += &format!("{title}\n{}\n", t.render());
    }

    let m = &r.marketing;
    if m.coupons + m.checkouts + m.red_packets + m.lotteries + m.groups_formed + m.groups_failed > 0 {
        let mut t = Table::new(["", "value"]).right(&[1]);
        t.row(["coupons claimed / redeemed".into(), format!("{} / {}", m.coupons_claimed, m.coupons_redeemed)]);
        t.row([
            "checkouts paid / released".into(),
            format!("{} / {} of {}", m.checkouts_paid, m.checkouts_released, m.checkouts),
        ]);
        for (layer, amount) in &m.discounts_by_layer {
            t.row([format!("discount: {layer}"), Fen(*amount).to_string()]);
        }
        for (who, amount) in &m.discounts_by_bearer {
            t.row([format!("discount borne by {who}"), Fen(*amount).to_string()]);
        }
        t.row(["discounts returned by refunds".into(), Fen(m.discounts_returned).to_string()]);
        t.row([
            "red packets: grabs, granted / total".into(),
            format!("{}, {} / {}", m.red_packet_grabs, Fen(m.red_packet_granted), Fen(m.red_packet_total)),
        ]);
        t.row(["red-packet leftovers returned".into(), Fen(m.red_packet_returned).to_string()]);
        t.row(["groups formed / failed".into(), format!("{} / {}", m.groups_formed, m.groups_failed)]);
        t.row(["lotteries drawn, winners".into(), format!("{}, {}", m.lotteries_drawn, m.lottery_winners)]);
        out += &format!("Marketing tools\n{}\n", t.render());
    }

    let mut t = Table::new(["SKA brands with GMV of at least", "brands"]).right(&[0, 1]);
    for x in &r.ska_brands_at_least {
        t.row([Fen(x.threshold_fen).to_string(), x.brands.to_string()]);
    }
    if !r.ska_brands_at_least.is_empty() {
        out += &format!("SKA brands\n{}\n", t.render());
    }

    let mut t = Table::new(["track", "budget", "claimed", "paid", "remaining", "used", "impressions", "payouts"])
        .right(&[1, 2, 3, 4, 5, 6, 7]);
    for b in &r.incentives {
        t.row([
            format!("{} {}", b.track, b.name_zh),
            Fen(b.budget_fen).to_string(),
            Fen(b.claimed_fen).to_string(),
            Fen(b.paid_fen).to_string(),
            Fen(b.remaining_fen).to_string(),
            fmt_bp(b.used_bp),
            b.impressions.to_string(),
            b.payouts.to_string(),
        ]);
    }
    out += &format!("Incentives against budgets ({} settlement(s))\n{}\n", r.settlements, t.render());

    let mut t = Table::new(["program", "track", "enrolled", "closed by", "paid"]).right(&[2, 3, 4]);
    for p in &r.programs {
        t.row([
            format!("{} {}", p.program, p.name_zh),
            p.track.clone(),
            p.enrolled.to_string(),
            p.closed_by.map_or("open".into(), |n| format!("settlement {n}")),
            Fen(p.paid_fen).to_string(),
        ]);
    }
    out += &format!("Programs\n{}\n", t.render());

    let b = &r.consumer_benefits;
    let mut t = Table::new(["", "value"]).right(&[1]);
    t.row(["red packets granted 红包".into(), Fen(b.red_packets_fen).to_string()]);
    t.row(["coupon discounts 优惠券".into(), Fen(b.coupons_fen).to_string()]);
    t.row(["满减 discounts".into(), Fen(b.fullcut_fen).to_string()]);
    t.row(["price cuts and group prices".into(), Fen(b.price_cut_fen + b.group_price_fen).to_string()]);
    t.row([format!("lottery prizes 抽奖 ({})", b.lottery_prizes), Fen(b.lottery_prizes_fen).to_string()]);
    t.row(["total given".into(), Fen(b.total_fen).to_string()]);
    t.row(["… given back by refunds".into(), Fen(b.returned_fen).to_string()]);
    out += &format!("Consumer benefits\n{}\n", t.render());

    let mut t = Table::new(["", "value"]).right(&[1]);
    t.row(["traffic-pack impressions granted".into(), r.traffic.impressions.to_string()]);
    for (track, n) in &r.traffic.impressions_by_track {
        t.row([format!("… track {track}"), n.to_string()]);
    }
    t.row(["main-venue slots 主会场资源位".into(), r.traffic.main_venue_slots.to_string()]);
    out += &format!("Traffic granted\n{}\n", t.render());
    if let Some(d) = &r.traffic_delivery {
        out += &traffic_delivery(d);
    }

    if let Some(base) = &r.baseline {
        let mut t = Table::new(["figure", "this festival", "baseline", "multiple", "announced", "reproduced"])
            .right(&[1, 2, 3, 4]);
        for m in &r.year_on_year {
            let money = m.figure.ends_with("_fen");
            let v = |x: i64| if money { Fen(x).to_string() } else { x.to_string() };
            t.row([
                m.figure.trim_end_matches("_fen").replace('_', " "),
                v(m.this_year),
                v(m.baseline),
                fmt_multiple(m.multiple_x100),
                m.announced_x.map_or(String::new(), |x| format!("{x}×")),
                mark(m.reproduced),
            ]);
        }
        out += &format!("Year on year against {}\n{}\n", base.festival, t.render());
    }

    if !r.figures.is_empty() {
        let mut t = Table::new(["figure", "reported", "computed", "bounds", "reproduced"]);
        for x in &r.figures {
            t.row([
                x.text_en.clone(),
                x.reported.clone(),
                x.computed
                    .clone()
                    .unwrap_or_else(|| "n/a: needs a baseline, or a reference for a month outside the festival".into()),
                x.bounds.clone().unwrap_or_default(),
                mark(x.reproduced),
            ]);
        }
        let (yes, all) = (r.figures.iter().filter(|x| x.reproduced == Some(true)).count(), r.figures.len());
        out += &format!("Figures of the source ({yes} of {all} reproduced)\n{}\n", t.render());
    }
    out
}

/// "yes", "NO", or blank where nothing was announced or computed.
fn mark(reproduced: Option<bool>) -> String {
    match reproduced {
        Some(true) => "yes".into(),
        Some(false) => "NO".into(),
        None => String::new(),
    }
}

/// Guaranteed traffic delivered: totals, per track (promised, delivered, short, owed) and
/// each track's delivery curve against its target curve, per day.
fn traffic_delivery(d: &dacu_core::traffic::view::Delivery) -> String {
    let pct =
        |x: u64, of: u64| if of == 0 { "—".to_string() } else { format!("{:.2}%", x as f64 * 100.0 / of as f64) };
    let mut out = format!(
        "Guaranteed traffic 确定性流量\n  {} opportunities: {} served, {} unsold; {} contracts, {} plans\n  promised {}, delivered {} ({}), of which make-goods {}; owed {}\n",
        d.opportunities, d.served, d.unsold, d.contracts, d.plans, d.promised, d.delivered,
        pct(d.delivered, d.promised), d.made_good, d.owed
    );
    let mut t = Table::new(["track", "contracts", "promised", "delivered", "delivered %", "short", "owed"])
        .right(&[1, 2, 3, 4, 5, 6]);
    for tr in &d.by_track {
        t.row([
            tr.track.clone(),
            tr.contracts.to_string(),
            tr.promised.to_string(),
            tr.delivered.to_string(),
            pct(tr.delivered, tr.promised),
            tr.shortfall.to_string(),
            tr.owed.to_string(),
        ]);
    }
    out += &t.render();
    for tr in &d.by_track {
        let mut t = Table::new(["day", "delivered", "cumulative", "target"]).right(&[1, 2, 3]);
        for p in tr.curve.iter().filter(|p| p.delivered > 0 || p.target > 0) {
            t.row([p.day.to_string(), p.delivered.to_string(), p.cumulative.to_string(), p.target.to_string()]);
        }
        out += &format!("Delivery curve, track {}\n{}", tr.track, t.render());
    }
    out + "\n"
}
