//! The festival report as one self-contained HTML file: inline CSS and hand-drawn SVG, no
//! scripts, fonts, images or links to anywhere, so the file opens offline, can be mailed
//! as it is, and prints as it shows.
//!
//! Escaping happens where text meets markup: every helper here takes plain text and
//! escapes it itself (table cells, tiles, legends, chart labels and tooltips), so data
//! (ids, names, figure texts) cannot reach the page raw. Chart geometry is integer
//! arithmetic guarded against zero scales, so an empty festival cannot produce NaN or
//! divide by zero. Every collection read is a Vec or a BTreeMap, so the page is the same
//! byte for byte for the same report.

use crate::money::{fmt_bp, share_bp, Fen};
use crate::view::{fmt_multiple, Report};
use crate::{Day, Festival};
use std::collections::BTreeMap;
use traffic::traffic;

mod traffic;

/// Series colours, in the order parts of a split are drawn.
const PALETTE: [&str; 6] = ["#2f6db5", "#e0872b", "#3f9a5c", "#b5446e", "#7657b0", "#8c8c8c"];
/// Budget not (yet) paid out, behind the paid part of an incentive bar.
const REMAINING: &str = "#c6d6ea";
const NA: &str = "n/a (needs a baseline or data outside this festival)";

const CSS: &str = r#"
:root { --ink: #1d232b; --muted: #5d6670; --line: #d5dae0; --accent: #2f6db5; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1040px; padding: 24px; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
  "Noto Sans CJK SC", sans-serif; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 16px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 14px 0 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 3; margin: 0 0 20px; padding-left: 22px; }
nav a { color: var(--accent); text-decoration: none; }
section { margin: 0 0 30px; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
tr, .tile, svg, .legend, .days div { break-inside: avoid; page-break-inside: avoid; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.tile .v { font-size: 19px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.muted { color: var(--muted); font-style: italic; }
.reproduced { color: #1e7e34; font-weight: 600; }
.not-reproduced { color: #c0392b; font-weight: 600; }
td.bar { width: 38%; }
svg { display: block; }
svg.chart { width: 100%; height: auto; }
svg.bar { width: 100%; height: 14px; }
svg.split { width: 100%; height: 24px; }
svg.sw { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
.chart text { font-size: 12px; fill: #5d6670; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 20px; margin: 6px 0; font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
.days { columns: 4 210px; column-gap: 28px; margin: 10px 0; font-size: 12px; }
.days div { display: flex; justify-content: space-between; gap: 8px; break-inside: avoid;
  border-bottom: 1px solid var(--line); padding: 1px 0; }
.days .num { flex: 1; }
.days .share { color: var(--muted); min-width: 4.5em; text-align: right; }
.grid { stroke: #d5dae0; stroke-dasharray: 4 3; }
.axis { stroke: #5d6670; }
.mark-claimed { stroke: #1d232b; stroke-width: 2; }
.mark-announced { stroke: #c0392b; stroke-width: 3; }
.mark-ref { stroke: #5d6670; stroke-width: 1; stroke-dasharray: 2 2; }
footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { margin: 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  nav { display: none; }
}
"#;

/// The whole page for `r`, a report of festival `f`.
pub fn render(f: &Festival, r: &Report) -> String {
    // (anchor id, heading, body): the table of contents and the sections come from one list.
    let mut sections: Vec<(&str, String, String)> = vec![
        ("totals", "Totals".into(), totals(r)),
        ("gmv-by-day", "GMV by day".into(), gmv_by_day(f, r)),
        ("channels", "By channel and brand tier".into(), splits(r)),
        ("anchor-tiers", "By anchor tier".into(), anchor_tiers(f, r)),
        ("providers", "Service providers 服务商".into(), providers(r)),
        ("figures", "Figures of the source".into(), figures(r)),
        ("ska", "SKA brands".into(), ska(r)),
        ("incentives", format!("Incentives against budgets ({} settlement(s))", r.settlements), incentives(r)),
        ("programs", "Programs".into(), programs(r)),
        ("benefits", "Consumer benefits".into(), benefits(r)),
        ("traffic", "Traffic granted".into(), traffic(r)),
    ];
    if !r.year_on_year.is_empty() {
        let against = r.baseline.as_ref().map_or("the baseline", |b| b.festival.as_str());
        sections.push(("year-on-year", format!("Year on year against {against}"), year_on_year(r)));
    }
    for (id, title, list) in [
        ("top-merchants", "Top merchants", &r.top_merchants),
        ("top-anchors", "Top anchors", &r.top_anchors),
        ("top-providers", "Top providers", &r.top_providers),
    ] {
        sections.push((id, title.into(), top(list, r.gmv)));
    }
    sections.push(("marketing", "Marketing tools".into(), marketing(r)));

    let name = format!("{} · {}", f.festival.name_zh, f.festival.name_en);
    let mut out = String::with_capacity(64 * 1024);
    out += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += &format!("<title>{} — festival report</title>\n<style>{CSS}</style>\n</head>\n<body>\n", escape(&name));
    out += &header(f, r);
    out += "<nav aria-label=\"Sections\"><ol>\n";
    for (id, title, _) in &sections {
        out += &format!("<li><a href=\"#{id}\">{}</a></li>\n", escape(title));
    }
    out += "</ol></nav>\n";
    for (id, title, body) in &sections {
        out += &format!("<section id=\"{id}\">\n<h2>{}</h2>\n{body}</section>\n", escape(title));
    }
    out += &format!(
        "<footer>Generated by dacu from {} recorded events. Money in yuan from integer fen; shares are \
         rounded half up to hundredths of a percent.</footer>\n</body>\n</html>\n",
        count(r.events)
    );
    out
}

/// Text made safe for element content and for quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\'' => out += "&#39;",
            _ => out.push(c),
        }
    }
    out
}

fn money(fen: i64) -> String {
    Fen(fen).to_string()
}

/// A count with thousands separators: 1234567 → "1,234,567".
fn count<N: Into<i128>>(n: N) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `x` of `scale` in units of `of`, clamped to 0..=of; 0 when the scale is not positive.
fn scaled(x: i64, scale: i64, of: i64) -> i64 {
    if scale <= 0 {
        return 0;
    }
    (x.clamp(0, scale) as i128 * of as i128 / scale as i128) as i64
}

/// A table cell: text (escaped when written), a muted note, or markup built in this module.
enum Cell {
    Text(String),
    Note(String),
    Html(String),
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

/// A table with `head`; columns listed in `right` hold numbers and align right. The
/// column count is part of the type, so a row can never be short.
fn table<const N: usize>(head: [&str; N], right: &[usize], rows: Vec<[Cell; N]>) -> String {
    let class = |i: usize| if right.contains(&i) { " class=\"num\"" } else { "" };
    let mut s = String::from("<table>\n<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        s += &format!("<th{}>{}</th>", class(i), escape(h));
    }
    s += "</tr></thead>\n<tbody>\n";
    if rows.is_empty() {
        s += &format!("<tr><td class=\"muted\" colspan=\"{N}\">none</td></tr>\n");
    }
    for row in rows {
        s += "<tr>";
        for (i, c) in row.into_iter().enumerate() {
            s += &match c {
                Cell::Text(t) => format!("<td{}>{}</td>", class(i), escape(&t)),
                Cell::Note(t) => format!("<td class=\"muted\">{}</td>", escape(&t)),
                Cell::Html(h) => format!("<td class=\"bar\">{h}</td>"),
            };
        }
        s += "</tr>\n";
    }
    s + "</tbody>\n</table>\n"
}

/// Key figures as tiles: (label, value).
fn tiles(items: &[(&str, String)]) -> String {
    let mut s = String::from("<div class=\"tiles\">\n");
    for (k, v) in items {
        s += &format!(
            "<div class=\"tile\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n",
            escape(v),
            escape(k)
        );
    }
    s + "</div>\n"
}

fn empty(text: &str) -> String {
    format!("<p class=\"empty\">{}</p>\n", escape(text))
}

fn swatch(colour: &str) -> String {
    format!("<svg class=\"sw\" viewBox=\"0 0 10 10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{colour}\"/></svg>")
}

/// A colour key: (colour, text).
fn legend(items: &[(&str, String)]) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (colour, text) in items {
        s += &format!("<span>{}{}</span>", swatch(colour), escape(text));
    }
    s + "</div>\n"
}

/// A vertical marker on a horizontal bar: position (in the bar's units), CSS class, tooltip.
type Mark<'a> = (i64, &'a str, String);

/// One horizontal bar `scale` wide: `segments` (value, colour, tooltip) stacked from the
/// left, negative values counting as zero, then `marks` as vertical lines. Drawn in a box
/// 1000 units wide stretched to its cell, so every position is an integer per mille.
fn hbar(class: &str, segments: &[(i64, &str, String)], scale: i64, marks: &[Mark<'_>]) -> String {
    const H: i64 = 10;
    let mut s = format!(
        "<svg class=\"{class}\" viewBox=\"0 0 1000 {H}\" preserveAspectRatio=\"none\" role=\"img\">\
         <rect width=\"1000\" height=\"{H}\" fill=\"#f1f3f6\"/>"
    );
    // Each segment ends where the running total ends, so the parts tile without gaps or
    // rounding drift, and a total beyond the scale is cut at the right edge.
    let mut sum = 0i64;
    for (value, colour, title) in segments {
        let x0 = scaled(sum, scale, 1000);
        sum = sum.saturating_add((*value).max(0));
        let x1 = scaled(sum, scale, 1000);
        if x1 > x0 {
            s += &format!(
                "<rect x=\"{x0}\" width=\"{}\" height=\"{H}\" fill=\"{colour}\"><title>{}</title></rect>",
                x1 - x0,
                escape(title)
            );
        }
    }
    for (at, mark, title) in marks {
        // Kept a unit inside the box so a mark at either end stays visible.
        let x = scaled(*at, scale, 1000).clamp(1, 999);
        s += &format!(
            "<line class=\"{mark}\" x1=\"{x}\" x2=\"{x}\" y1=\"0\" y2=\"{H}\" \
             vector-effect=\"non-scaling-stroke\"><title>{}</title></line>",
            escape(title)
        );
    }
    s + "</svg>"
}

/// A split of a whole into `parts` (label, value): one stacked bar and a legend giving each
/// part's value and share.
fn split(caption: &str, parts: &[(String, i64)], fmt: fn(i64) -> String) -> String {
    let total: i64 = parts.iter().map(|(_, v)| (*v).max(0)).sum();
    let colour = |i: usize| PALETTE[i % PALETTE.len()];
    let text = |label: &str, v: i64| format!("{label}: {} ({})", fmt(v), fmt_bp(share_bp(v.max(0), total)));
    let segments: Vec<(i64, &str, String)> =
        parts.iter().enumerate().map(|(i, (label, v))| (*v, colour(i), text(label, *v))).collect();
    let keys: Vec<(&str, String)> =
        parts.iter().enumerate().map(|(i, (label, v))| (colour(i), text(label, *v))).collect();
    format!("<h3>{}</h3>\n{}\n{}", escape(caption), hbar("split", &segments, total, &[]), legend(&keys))
}

/// A column chart of `points` (label, value): one bar per point with its value as a
/// tooltip, the first and last labels under the axis and the maximum over it. Negative
/// values draw as empty columns.
fn bar_chart(label: &str, points: &[(String, i64)], fmt: fn(i64) -> String) -> String {
    const W: i64 = 960;
    const H: i64 = 240;
    const TOP: i64 = 26;
    const BOTTOM: i64 = 24;
    const SIDE: i64 = 6;
    let (plot_w, plot_h, base) = (W - 2 * SIDE, H - TOP - BOTTOM, H - BOTTOM);
    let mut s =
        format!("<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">\n", escape(label));
    s += &format!("<line class=\"axis\" x1=\"{SIDE}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\"/>\n", W - SIDE);
    if points.is_empty() {
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text>\n</svg>\n",
            W / 2,
            TOP + plot_h / 2
        );
        return s;
    }
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(0);
    // The first point holding the maximum; with nothing positive there is no peak to name.
    let peak = points.iter().find(|(_, v)| *v == max && max > 0).map_or(String::new(), |(p, _)| format!(" on {p}"));
    s += &format!("<line class=\"grid\" x1=\"{SIDE}\" x2=\"{}\" y1=\"{TOP}\" y2=\"{TOP}\"/>\n", W - SIDE);
    s += &format!("<text x=\"{SIDE}\" y=\"{}\">max {}{}</text>\n", TOP - 8, escape(&fmt(max)), escape(&peak));
    let n = points.len() as i64;
    for (i, (day, v)) in points.iter().enumerate() {
        let (x0, x1) = (SIDE + i as i64 * plot_w / n, SIDE + (i as i64 + 1) * plot_w / n);
        // A fifth of the slot as the gap between columns, but never a column thinner than 1.
        let w = (x1 - x0 - (x1 - x0) / 5).max(1);
        // A column for any positive value, however small next to the maximum.
        let h = if *v > 0 { scaled(*v, max, plot_h).max(1) } else { 0 };
        s += &format!(
            "<rect x=\"{x0}\" y=\"{}\" width=\"{w}\" height=\"{h}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
            base - h,
            PALETTE[0],
            escape(day),
            escape(&fmt(*v))
        );
    }
    let first = &points[0].0;
    s += &format!("<text x=\"{SIDE}\" y=\"{}\">{}</text>\n", H - 6, escape(first));
    if let Some((last, _)) = points.get(1..).and_then(|rest| rest.last()) {
        s += &format!("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", W - SIDE, H - 6, escape(last));
    }
    s + "</svg>\n"
}

fn header(f: &Festival, r: &Report) -> String {
    let days = f.days();
    let period = match (days.first(), days.last()) {
        (Some(a), Some(b)) => format!("{a} to {b} · "),
        _ => String::new(),
    };
    let mut s = format!(
        "<header>\n<h1><span lang=\"zh-CN\">{}</span> · {}</h1>\n<p class=\"meta\">festival {} · {period}{} events · {} \
         settlement(s)</p>\n",
        escape(&f.festival.name_zh),
        escape(&f.festival.name_en),
        escape(&r.festival),
        count(r.events),
        count(r.settlements)
    );
    if let Some(d) = &f.festival.description {
        s += &format!("<p>{}</p>\n", escape(d));
    }
    s + "</header>\n"
}

fn totals(r: &Report) -> String {
    tiles(&[
        ("GMV (paid − refunded)", money(r.gmv)),
        ("GMV gross (paid)", money(r.gmv_gross)),
        ("refunded", money(r.refunded)),
        ("orders", count(r.orders)),
        ("buyers", count(r.buyers)),
        ("merchants", count(r.merchants)),
        ("anchors", count(r.anchors)),
        ("live sessions", count(r.sessions)),
    ])
}

fn gmv_by_day(f: &Festival, r: &Report) -> String {
    // Every festival day gets a column, including days without sales, so gaps show as gaps;
    // days outside the festival that hold sales are kept too.
    let mut days: BTreeMap<Day, i64> = f.days().into_iter().map(|d| (d, 0)).collect();
    days.extend(r.gmv_by_day.iter().copied());
    let points: Vec<(String, i64)> = days.iter().map(|(d, g)| (d.to_string(), *g)).collect();
    // The values under the chart, for print; in columns, as a festival may run for months.
    let mut list = String::from("<div class=\"days\">\n");
    for (d, g) in &points {
        list += &format!(
            "<div><span>{}</span><span class=\"num\">{}</span><span class=\"share\">{}</span></div>\n",
            escape(d),
            escape(&money(*g)),
            escape(&fmt_bp(share_bp(*g, r.gmv)))
        );
    }
    bar_chart("GMV by day", &points, money) + &list + "</div>\n"
}

fn splits(r: &Report) -> String {
    let channel = |c: &str| r.gmv_by_channel.get(c).copied().unwrap_or(0);
    let channels = [("live room 直播间".to_string(), channel("live")), ("shelf 货架".to_string(), channel("shelf"))];
    let tiers: Vec<(String, i64)> = r.gmv_by_brand_tier.iter().map(|(t, g)| (t.to_string(), *g)).collect();
    split("GMV by channel", &channels, money) + &split("GMV by brand tier", &tiers, money)
}

fn anchor_tiers(f: &Festival, r: &Report) -> String {
    let rows: Vec<[Cell; 4]> = f
        .anchor_tier_ids()
        .into_iter()
        .filter_map(|id| {
            let x = r.anchor_tier_share.get(id)?;
            let name = f
                .anchor_tiers
                .iter()
                .find(|t| t.id == id)
                .map_or(String::new(), |t| format!(" {} · {}", t.name_zh, t.name_en));
            let bar = hbar("bar", &[(x.share_bp, PALETTE[0], fmt_bp(x.share_bp))], 10_000, &[]);
            Some([format!("{id}{name}").into(), Cell::Html(bar), money(x.gmv).into(), fmt_bp(x.share_bp).into()])
        })
        .collect();
    if rows.is_empty() {
        return empty("The festival declares no anchor tiers.");
    }
    table(["anchor tier", "share of anchor-attributed GMV", "GMV", "share"], &[2, 3], rows)
}

fn providers(r: &Report) -> String {
    let unserved = r.merchants.saturating_sub(r.merchants_served_by_providers);
    let other_self = r.self_broadcast_gmv - r.provider_served_self_broadcast_gmv;
    tiles(&[
        ("certified providers (of all)", format!("{} ({})", count(r.certified_providers), count(r.providers))),
        (
            "merchants served by providers",
            format!("{} ({})", count(r.merchants_served_by_providers), fmt_bp(r.merchants_served_share_bp)),
        ),
        ("GMV of provider-served merchants", money(r.provider_served_gmv)),
        ("brand self-broadcast GMV 品牌自播", money(r.self_broadcast_gmv)),
        ("… by provider-served merchants", money(r.provider_served_self_broadcast_gmv)),
        ("… provider-served share", fmt_bp(r.provider_served_self_broadcast_share_bp)),
    ]) + &split(
        "Merchants",
        &[
            ("served by a provider".into(), r.merchants_served_by_providers as i64),
            ("not served".into(), unserved as i64),
        ],
        count::<i64>,
    ) + &split(
        "Brand self-broadcast GMV",
        &[("provider-served merchants".into(), r.provider_served_self_broadcast_gmv), ("others".into(), other_self)],
        money,
    )
}

/// A figure's mark: reproduced or not, in words (and colour).
fn reproduced(r: Option<bool>) -> Cell {
    match r {
        Some(true) => Cell::Html(r#"<span class="reproduced">reproduced</span>"#.into()),
        Some(false) => Cell::Html(r#"<span class="not-reproduced">not reproduced</span>"#.into()),
        None => Cell::Text(String::new()),
    }
}

fn figures(r: &Report) -> String {
    let rows = r.figures.iter().map(|x| {
        let computed = x.computed.clone().map_or(Cell::Note(NA.into()), Cell::Text);
        [
            x.text_en.as_str().into(),
            x.text_zh.as_str().into(),
            x.reported.as_str().into(),
            computed,
            x.bounds.clone().unwrap_or_default().into(),
            reproduced(x.reproduced),
        ]
    });
    let yes = r.figures.iter().filter(|x| x.reproduced == Some(true)).count();
    format!("<p>{yes} of {} reproduced.</p>", r.figures.len())
        + &table(["figure", "口径", "reported", "computed", "bounds", ""], &[], rows.collect())
}

fn ska(r: &Report) -> String {
    let rows = r.ska_brands_at_least.iter().map(|x| [money(x.threshold_fen).into(), count(x.brands).into()]);
    table(["SKA brands with GMV of at least", "brands"], &[1], rows.collect())
}

fn incentives(r: &Report) -> String {
    let mut bars = Vec::new();
    let mut rows = Vec::new();
    for b in &r.incentives {
        let name = format!("{} {} · {}", b.track, b.name_zh, b.name_en);
        // Scaled to the larger of budget and claim, so a claim the budget had to scale down
        // shows its mark past the end of the budget.
        let scale = b.budget_fen.max(b.claimed_fen);
        let segments = [
            (b.paid_fen, PALETTE[0], format!("paid {}", money(b.paid_fen))),
            (b.remaining_fen, REMAINING, format!("remaining {}", money(b.remaining_fen))),
        ];
        let marks: Vec<Mark<'_>> = if b.claimed_fen > 0 {
            vec![(b.claimed_fen, "mark-claimed", format!("claimed {}", money(b.claimed_fen)))]
        } else {
            Vec::new()
        };
        let used = format!("{} of {} ({})", money(b.paid_fen), money(b.budget_fen), fmt_bp(b.used_bp));
        bars.push([name.as_str().into(), Cell::Html(hbar("bar", &segments, scale, &marks)), used.into()]);
        rows.push([
            name.into(),
            money(b.budget_fen).into(),
            money(b.claimed_fen).into(),
            money(b.paid_fen).into(),
            money(b.remaining_fen).into(),
            fmt_bp(b.used_bp).into(),
            count(b.impressions).into(),
            count(b.payouts).into(),
        ]);
    }
    let key = legend(&[
        (PALETTE[0], "paid".into()),
        (REMAINING, "budget remaining".into()),
        ("#1d232b", "line: claimed by the rules before budget scaling".into()),
    ]);
    key + &table(["track", "paid against budget", "paid of budget (used)"], &[2], bars)
        + &table(
            ["track", "budget", "claimed", "paid", "remaining", "used", "impressions", "payouts"],
            &[1, 2, 3, 4, 5, 6, 7],
            rows,
        )
}

fn programs(r: &Report) -> String {
    let rows = r.programs.iter().map(|p| {
        [
            format!("{} {} · {}", p.program, p.name_zh, p.name_en).into(),
            p.track.as_str().into(),
            count(p.enrolled).into(),
            p.closed_by.map_or("open".into(), |n| format!("settlement {n}")).into(),
            money(p.paid_fen).into(),
        ]
    });
    table(["program", "track", "enrolled", "closed by", "paid"], &[2, 3, 4], rows.collect())
}

fn benefits(r: &Report) -> String {
    let b = &r.consumer_benefits;
    let parts = [
        ("red packets 红包".to_string(), b.red_packets_fen),
        ("coupons 优惠券".to_string(), b.coupons_fen),
        ("满减".to_string(), b.fullcut_fen),
        ("price cuts and group prices".to_string(), b.price_cut_fen + b.group_price_fen),
        (format!("lottery prizes 抽奖 ({})", count(b.lottery_prizes)), b.lottery_prizes_fen),
    ];
    let mut rows: Vec<[Cell; 2]> = parts.iter().map(|(k, v)| [k.as_str().into(), money(*v).into()]).collect();
    rows.push(["total given".into(), money(b.total_fen).into()]);
    rows.push(["… given back by refunds".into(), money(b.returned_fen).into()]);
    split("What consumers were given", &parts, money) + &table(["benefit", "value"], &[1], rows)
}

fn year_on_year(r: &Report) -> String {
    // One scale for all rows, wide enough for every multiple, every announcement and 1×.
    let scale = r
        .year_on_year
        .iter()
        .flat_map(|m| [m.multiple_x100, m.announced_x.map_or(0, |x| x.saturating_mul(100))])
        .fold(100, i64::max);
    let rows = r.year_on_year.iter().map(|m| {
        let money_figure = m.figure.ends_with("_fen");
        let v = |x: i64| if money_figure { money(x) } else { count(x) };
        let mut marks: Vec<Mark<'_>> = vec![(100, "mark-ref", "1.00× = the baseline".into())];
        if let Some(x) = m.announced_x {
            marks.push((x.saturating_mul(100), "mark-announced", format!("announced {x}×")));
        }
        let bar = hbar("bar", &[(m.multiple_x100, PALETTE[4], fmt_multiple(m.multiple_x100))], scale, &marks);
        [
            m.figure.trim_end_matches("_fen").replace('_', " ").into(),
            v(m.this_year).into(),
            v(m.baseline).into(),
            Cell::Html(bar),
            fmt_multiple(m.multiple_x100).into(),
            m.announced_x.map_or(String::new(), |x| format!("announced {x}×")).into(),
            reproduced(m.reproduced),
        ]
    });
    legend(&[
        (PALETTE[4], "multiple of the baseline".into()),
        ("#c0392b", "line: announced multiple".into()),
        ("#5d6670", "dashed line: 1× (the baseline)".into()),
    ]) + &table(["figure", "this festival", "baseline", "", "multiple", "announced", ""], &[1, 2, 4, 5], rows.collect())
}

fn top(list: &[crate::view::Ranked], total: i64) -> String {
    // Bars against the leader, shares against the festival's whole GMV.
    let lead = list.first().map_or(0, |x| x.gmv);
    let rows = list.iter().enumerate().map(|(i, x)| {
        let bar = hbar("bar", &[(x.gmv, PALETTE[0], money(x.gmv))], lead, &[]);
        [
            count(i as u64 + 1).into(),
            x.id.as_str().into(),
            x.name.as_str().into(),
            Cell::Html(bar),
            money(x.gmv).into(),
            fmt_bp(share_bp(x.gmv, total)).into(),
        ]
    });
    table(["#", "id", "name", "", "GMV", "share of GMV"], &[0, 4, 5], rows.collect())
}

fn marketing(r: &Report) -> String {
    let m = &r.marketing;
    if m.coupons + m.checkouts + m.red_packets + m.lotteries + m.groups_formed + m.groups_failed == 0 {
        return empty("No coupons, checkouts, red packets, group deals or lotteries in this festival.");
    }
    let rows: Vec<[Cell; 2]> = vec![
        [
            "coupons claimed / redeemed".into(),
            format!("{} / {}", count(m.coupons_claimed), count(m.coupons_redeemed)).into(),
        ],
        [
            "checkouts paid / released / all".into(),
            format!("{} / {} / {}", count(m.checkouts_paid), count(m.checkouts_released), count(m.checkouts)).into(),
        ],
        ["discounts returned by refunds".into(), money(m.discounts_returned).into()],
        [
            "red packets: grabs, granted / total".into(),
            format!("{}, {} / {}", count(m.red_packet_grabs), money(m.red_packet_granted), money(m.red_packet_total))
                .into(),
        ],
        ["red-packet leftovers returned".into(), money(m.red_packet_returned).into()],
        ["groups formed / failed".into(), format!("{} / {}", count(m.groups_formed), count(m.groups_failed)).into()],
        [
            "lotteries drawn, winners".into(),
            format!("{}, {}", count(m.lotteries_drawn), count(m.lottery_winners)).into(),
        ],
    ];
    let by = |map: &BTreeMap<&'static str, i64>| -> Vec<(String, i64)> {
        map.iter().map(|(k, v)| (k.replace('_', " "), *v)).collect()
    };
    let mut s = table(["", "value"], &[1], rows);
    if !m.discounts_by_layer.is_empty() {
        s += &split("Discounts by layer", &by(&m.discounts_by_layer), money);
    }
    if !m.discounts_by_bearer.is_empty() {
        s += &split("Discounts by who bears them", &by(&m.discounts_by_bearer), money);
    }
    s
}

#[cfg(test)]
mod tests;
