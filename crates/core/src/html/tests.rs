//! The HTML report's tests.

use super::*;
use crate::view::{self, Baseline, ReportOptions};
use crate::{festival, parse_line, Engine};
use std::sync::Arc;

const MINI: &str = include_str!("../../../../festivals/example-mini.toml");
const EVIL: &str = r#"<script>alert("x")</script> & 'Co'"#;

fn engine(toml: &str, lines: &[&str]) -> Engine {
    let mut e = Engine::new(Arc::new(festival::parse(toml).expect("valid festival")));
    for l in lines {
        let c = parse_line(l).unwrap_or_else(|err| panic!("{l}: {err:?}"));
        e.execute(&c, &mut Vec::new()).unwrap_or_else(|err| panic!("{l}: {err:?}"));
    }
    e
}

/// Sales on two days, live and shelf, a refund, providers, and a settlement that pays
/// the anchor race; one merchant's name is an attempt at markup.
fn busy(toml: &str) -> Engine {
    let evil = serde_json::to_string(EVIL).expect("json string");
    let m1 = format!(
        r#"{{"type":"register_merchant","merchant":"m1","name":{evil},"brand_tier":"ska","category":"beauty"}}"#
    );
    engine(
        toml,
        &[
            &m1,
            r#"{"type":"register_merchant","merchant":"m2","name":"Hill Tea","brand_tier":"ka","category":"food"}"#,
            r#"{"type":"register_anchor","anchor":"a_head","name":"Big Star","followers":2000000}"#,
            r#"{"type":"register_provider","provider":"p1","name":"Yaowang"}"#,
            r#"{"type":"certify_provider","provider":"p1","at":"2021-11-01T09:00:00+08:00"}"#,
            r#"{"type":"bind_provider","provider":"p1","merchant":"m1","at":"2021-11-01T10:00:00+08:00"}"#,
            r#"{"type":"enroll","program":"anchor_race","participant":"a_head","at":"2021-11-02T09:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o1","user":"u1","merchant":"m2","channel":"shelf","lines":[{"sku":"m2-a","qty":1,"price":30000,"paid":30000}],"at":"2021-11-02T12:00:00+08:00"}"#,
            r#"{"type":"live_start","session":"s1","anchor":"a_head","at":"2021-11-05T20:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o2","user":"u2","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"m1-a","qty":2,"price":100000,"paid":200000}],"at":"2021-11-05T20:10:00+08:00"}"#,
            r#"{"type":"live_end","session":"s1","at":"2021-11-05T21:00:00+08:00"}"#,
            r#"{"type":"refund","order":"o2","amount":50000,"at":"2021-11-06T10:00:00+08:00","refund_id":"r1"}"#,
            r#"{"type":"settle","id":"final","at":"2021-11-08T12:00:00+08:00"}"#,
        ],
    )
}

#[test]
fn page_is_self_contained_and_escapes_data() {
    let e = busy(MINI);
    let r = view::report(e.festival(), e.state());
    assert!(r.gmv > 0, "the stream must sell something");
    let page = render(e.festival(), &r);
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.ends_with("</html>\n"));
    assert!(page.contains("<svg"));
    for banned in ["http://", "https://", "<script", "<link", "<img", "@import", "url(", "NaN"] {
        assert!(!page.contains(banned), "page contains {banned}");
    }
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"));
    assert!(!page.contains(EVIL));
    // Totals, the festival's name and the figure of its source.
    assert!(page.contains(&Fen(r.gmv).to_string()));
    assert!(page.contains(&Fen(r.gmv_gross).to_string()));
    assert!(page.contains("迷你购物节 · Mini Shopping Festival"));
    assert!(page.contains("SKA brands with GMV over ¥1,000"));
    // Every festival day has a column, and the busiest day's GMV is the chart's maximum.
    assert_eq!(page.matches("<title>2021-11-").count(), e.festival().days().len());
    let (peak, max) = r.gmv_by_day.iter().max_by_key(|(d, g)| (*g, std::cmp::Reverse(*d))).expect("sales");
    assert!(page.contains(&format!("max {} on {peak}</text>", Fen(*max))));
    // The settlement paid the anchor track: its bar is drawn with the paid amount.
    let anchor = r.incentives.iter().find(|t| t.track == "anchor").expect("anchor track");
    assert!(anchor.paid_fen > 0, "settlement must pay the race");
    assert!(page.contains(&format!("<title>paid {}</title>", Fen(anchor.paid_fen))));
    assert!(!page.contains("id=\"year-on-year\""), "no baseline, no year-on-year section");
}

#[test]
fn page_is_the_same_for_the_same_stream() {
    // Two engines built apart: nothing in the page may depend on addresses, hashing or time.
    let (a, b) = (busy(MINI), busy(MINI));
    let page = |e: &Engine| render(e.festival(), &view::report(e.festival(), e.state()));
    assert_eq!(page(&a), page(&b));
}

#[test]
fn empty_festival_renders_without_nan_or_division_by_zero() {
    let e = engine(MINI, &[]);
    let r = view::report(e.festival(), e.state());
    assert_eq!(r.gmv, 0);
    let page = render(e.festival(), &r);
    assert!(page.contains("<svg"));
    assert!(page.contains("max ¥0.00</text>"), "no peak day when nothing sold");
    assert!(!page.contains("NaN") && !page.contains("inf"));
    assert!(page.contains("No coupons, checkouts, red packets"));
    // Nothing sold: no column has height.
    assert!(!page.contains("height=\"1\" fill"), "no column for a zero day");
}

#[test]
fn year_on_year_draws_multiples_and_the_announced_marker() {
    // The mini festival announces nothing; add an announcement for traffic.
    let toml = format!("{MINI}\n[support]\ntraffic_multiple = 3\n");
    let e = busy(&toml);
    let r0 = view::report(e.festival(), e.state());
    assert!(r0.traffic.impressions > 0, "the race's winner gets a traffic pack");
    let baseline = Baseline {
        festival: "mini-2020 <old>".into(),
        gmv_fen: Some(r0.gmv / 2),
        traffic_impressions: Some(r0.traffic.impressions / 4),
        ..Baseline::default()
    };
    let opts = ReportOptions { baseline: Some(baseline), ..ReportOptions::default() };
    let r = view::report_with(e.festival(), e.state(), &opts);
    assert_eq!(r.year_on_year.len(), 2);
    let page = render(e.festival(), &r);
    assert!(page.contains("id=\"year-on-year\""));
    assert!(page.contains("Year on year against mini-2020 &lt;old&gt;"));
    assert!(page.contains("2.00×") && page.contains("4.00×"));
    assert!(page.contains("class=\"mark-announced\""));
    assert!(page.contains("<title>announced 3×</title>"));
}

#[test]
fn escape_covers_the_five_characters() {
    assert_eq!(escape(r#"a&b<c>d"e'f 中"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f 中");
}

#[test]
fn bars_scale_to_the_maximum_and_survive_zero() {
    let points = vec![("a".to_string(), 0), ("b".to_string(), 50), ("c".to_string(), 100), ("d".to_string(), -5)];
    let svg = bar_chart("t", &points, money);
    assert!(svg.contains("height=\"190\""), "the maximum fills the plot: {svg}");
    assert!(svg.contains("height=\"95\""), "half the maximum fills half");
    assert!(svg.contains(">a</text>") && svg.contains(">d</text>"));
    assert!(!svg.contains(">b</text>"), "only the first and last labels");
    let zeros = bar_chart("t", &[("a".to_string(), 0)], money);
    assert!(zeros.contains("height=\"0\"") && zeros.contains("max ¥0.00"));
    assert!(bar_chart("t", &[], money).contains("no data"));
    // Stacked parts tile the box exactly, and a zero scale draws no part at all.
    let bar = hbar("bar", &[(1, "#000", "x".into()), (1, "#000", "y".into()), (1, "#000", "z".into())], 3, &[]);
    assert!(bar.contains("x=\"0\" width=\"333\"") && bar.contains("x=\"666\" width=\"334\""));
    assert_eq!(hbar("bar", &[(5, "#000", "x".into())], 0, &[(5, "m", "m".into())]).matches("<rect").count(), 1);
}

#[test]
fn counts_group_thousands() {
    assert_eq!(count(0u64), "0");
    assert_eq!(count(999u64), "999");
    assert_eq!(count(1_234_567u64), "1,234,567");
    assert_eq!(count(-1_000i64), "-1,000");
}
