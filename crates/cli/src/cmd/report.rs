use crate::table::Table;
use dacu_core::money::{fmt_bp, share_bp, Fen};
use dacu_core::view::{self, Report};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, json: bool, opts: dacu_log::Options) -> anyhow::Result<ExitCode> {
    let dir = super::open(data, opts)?;
    let r = view::report(dir.festival(), dir.engine().state());
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render(dir.festival(), &r));
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

    if !r.figures.is_empty() {
        let mut t = Table::new(["figure", "reported", "computed"]);
        for x in &r.figures {
            t.row([
                x.text_en.clone(),
                x.reported.clone(),
                x.computed.clone().unwrap_or_else(|| "n/a: needs a baseline or data outside this festival".into()),
            ]);
        }
        out += &format!("Figures of the source\n{}\n", t.render());
    }
    out
}
