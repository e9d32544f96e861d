//! Regression tests of smaller defects: each, named after what it caught.

use dacu_core::contest::view::Page;
use dacu_core::digest::digest;
use dacu_core::festival::{self, Role};
use dacu_core::{parse_line, Code, Day, Engine, Event};
use std::sync::Arc;

fn mini() -> Engine {
    let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
    Engine::new(Arc::new(f))
}

fn run(e: &mut Engine, line: &str) -> Result<Vec<Event>, dacu_core::Rejection> {
    let c = parse_line(line)?;
    let mut out = Vec::new();
    e.execute(&c, &mut out)?;
    Ok(out)
}

fn ok(e: &mut Engine, lines: &[&str]) {
    for l in lines {
        run(e, l).unwrap_or_else(|r| panic!("{l}: {r}"));
    }
}

/// The contests example: three anchors, two providers, orders on 11-02 to 11-06.
fn contests() -> Engine {
    let mut e = mini();
    for l in include_str!("../../../examples/contests-mini.jsonl").lines() {
        if let Ok(c) = parse_line(l) {
            let _ = e.execute(&c, &mut Vec::new());
        }
    }
    e
}

#[test]
fn an_empty_violation_reason_is_refused_and_keeps_the_entrant_ranked() {
    let mut e = contests();
    let ri = e.state().contests.race_index("anchor_race").unwrap();
    let ranked = |e: &Engine| e.state().contests.races[ri].boards[&(None, None)].board.len();
    let before = (digest(e.state()), ranked(&e));
    for reason in ["", "   "] {
        let line = format!(
            r#"{{"type":"record_violation","id":"v","violation":"v1","participant":"a_head","reason":"{reason}","at":"2021-11-06T22:00:00+08:00"}}"#
        );
        let r = run(&mut e, &line).expect_err("a blank reason");
        assert_eq!(r.code, Code::InvalidValue);
        assert!(r.message.contains("`reason`"), "{}", r.message);
    }
    assert_eq!((digest(e.state()), ranked(&e)), before);
}

#[test]
fn a_page_of_u64_max_rows_is_the_rest_of_the_board_not_nothing() {
    let e = contests();
    let (f, st) = (e.festival(), e.state());
    let c = &st.contests;
    let ri = c.race_index("anchor_race").unwrap();
    let key = c.find_board(ri, None, None).unwrap();
    let top = c.page(f, st, ri, key, &Page::Top(1)).unwrap();
    assert_eq!(top.rows.len(), 1);
    let cursor = top.next_cursor.clone().expect("more rows");
    // `leaderboard --after C --top 18446744073709551615` once returned no rows, no cursor.
    let rest = c.page(f, st, ri, key, &Page::After(cursor, usize::MAX)).unwrap();
    assert_eq!(rest.rows.iter().map(|r| r.rank).collect::<Vec<_>>(), (2..=top.ranked).collect::<Vec<_>>());
    assert_eq!(rest.next_cursor, None);
    // `--around ID --top 18446744073709551615` once left out the entrant itself.
    let around = c.page(f, st, ri, key, &Page::Around("a_mid".into(), usize::MAX)).unwrap();
    assert_eq!(around.rows.len(), top.ranked);
    assert!(around.rows.iter().any(|r| r.id == "a_mid"));
}

const BY_CATEGORY: &str = r#"
[festival]
id = "categories"
name_zh = "类目"
name_en = "Categories"
start = 2021-11-01
end = 2021-11-03

[registration]
opens = 2021-11-01
closes = 2021-11-03

[[tracks]]
id = "brand"
role = "merchant"
name_zh = "品牌"
name_en = "Brands"
budget_fen = 1

[[reward_tables]]
id = "r"

[[reward_tables.bands]]
rank_from = 1
rank_to = 1
items = [{ kind = "cash", amount_fen = 1 }]

[[contests]]
id = "daily"
name_zh = "日榜"
name_en = "Daily"
track = "brand"
metric = "gmv"
start = 2021-11-01
end = 2021-11-03
period = "daily"
group_by = "category"
reward_table = "r"
"#;

#[test]
fn category_boards_settle_by_day_then_category_id_not_first_registration() {
    // Two boards on one day claim 1 fen each from a budget of 1 fen: the remainders tie,
    // so the fen goes to the earlier line. "food" was registered first, but "beauty"
    // comes first by id, so its board is settled first and its winner gets the fen.
    let mut e = Engine::new(Arc::new(festival::parse(BY_CATEGORY).expect("valid")));
    let order = |id: &str, m: &str| {
        format!(
            r#"{{"type":"order_paid","order":"{id}","user":"u","merchant":"{m}","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":100,"paid":100}}],"at":"2021-11-01T12:00:00+08:00"}}"#
        )
    };
    ok(
        &mut e,
        &[
            r#"{"type":"register_merchant","merchant":"mf","name":"F","brand_tier":"ka","category":"food"}"#,
            r#"{"type":"register_merchant","merchant":"mb","name":"B","brand_tier":"ka","category":"beauty"}"#,
            &order("o1", "mf"),
            &order("o2", "mb"),
            r#"{"type":"settle","id":"s","at":"2021-11-03T00:00:00+08:00"}"#,
        ],
    );
    let s = &e.state().settlement;
    let order: Vec<(&str, i64)> = s.lines.iter().map(|l| (l.group.as_deref().unwrap(), l.amount)).collect();
    assert_eq!(order, [("beauty", 1), ("food", 0)]);
}

#[test]
fn cross_store_bearers_follow_each_merchants_first_line_in_the_cart() {
    // m1's first line is free after its price cut, so it takes no part of the 满减; m1 is
    // still listed before m2, whose first line comes second in the cart.
    let mut e = mini();
    ok(
        &mut e,
        &[
            r#"{"type":"register_merchant","merchant":"m1","name":"A","brand_tier":"ka","category":"c"}"#,
            r#"{"type":"register_merchant","merchant":"m2","name":"B","brand_tier":"ka","category":"c"}"#,
            r#"{"type":"create_price_cut","id":"pc","cut":"free","merchant":"m1","sku":"gift","off":1000,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"create_fullcut","id":"f","fullcut":"x","scope":"cross_store","tiers":[[10000,2000]],"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
        ],
    );
    let out = run(
        &mut e,
        r#"{"type":"checkout","id":"c","checkout":"co","user":"u","channel":"shelf","lines":[{"merchant":"m1","sku":"gift","qty":1,"price":1000},{"merchant":"m2","sku":"b","qty":1,"price":6000},{"merchant":"m1","sku":"a","qty":1,"price":6000}],"at":"2021-11-02T10:00:00+08:00"}"#,
    )
    .unwrap();
    let Event::CheckoutReserved { quote, .. } = &out[0] else { panic!("{out:?}") };
    let cross = quote.discounts.iter().find(|d| d.promo == "x").expect("the 满减 applies");
    assert_eq!(cross.lines, [0, 1000, 1000]);
    let who: Vec<&str> = cross.bearers.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(who, ["merchant:m1", "merchant:m2"]);
}

#[test]
fn group_price_subsidies_count_in_the_reports_consumer_benefits() {
    let mut e = mini();
    ok(
        &mut e,
        &[
            r#"{"type":"register_merchant","merchant":"m1","name":"A","brand_tier":"ka","category":"c"}"#,
            r#"{"type":"create_group_deal","id":"d","deal":"tea","merchant":"m1","sku":"t","price":5000,"group_price":3000,"size":2,"start":"2021-11-01T00:00:00+08:00","end":"2021-11-08T00:00:00+08:00","at":"2021-11-01T00:00:00+08:00"}"#,
            r#"{"type":"open_group","id":"g1","group":"g","deal":"tea","user":"u1","order":"go1","at":"2021-11-02T10:00:00+08:00"}"#,
            r#"{"type":"join_group","id":"g2","group":"g","user":"u2","order":"go2","at":"2021-11-02T10:05:00+08:00"}"#,
        ],
    );
    let b = dacu_core::view::report(e.festival(), e.state()).consumer_benefits;
    // Two members at ¥20 off each.
    assert_eq!(b.group_price_fen, 4000);
    assert_eq!(b.total_fen, 4000);
}

#[test]
fn a_daily_challenge_board_shows_the_band_only_where_the_target_was_reached() {
    // a_head reached the ¥50,000 target on 11-05 only; on 11-06 it sells ¥10.
    let mut e = contests();
    ok(
        &mut e,
        &[
            r#"{"type":"live_start","session":"s9","anchor":"a_head","at":"2021-11-06T21:00:00+08:00"}"#,
            r#"{"type":"order_paid","order":"o9","user":"u9","merchant":"m1","channel":"live","session":"s9","lines":[{"sku":"x","qty":1,"price":1000,"paid":1000}],"at":"2021-11-06T21:10:00+08:00"}"#,
        ],
    );
    let (f, st) = (e.festival(), e.state());
    let c = &st.contests;
    let ri = c.race_index("head_bigday").unwrap();
    let band_on = |day: &str| {
        let key = c.find_board(ri, Day::parse(day), None).unwrap();
        let p = c.page(f, st, ri, key, &Page::Top(10)).unwrap();
        p.rows.iter().find(|r| r.id == "a_head").map(|r| (r.band, r.rewards.len()))
    };
    // The leaderboard once showed "band 1" on every day's board.
    assert_eq!(band_on("2021-11-05"), Some((Some(1), 1)));
    assert_eq!(band_on("2021-11-06"), Some((None, 0)));
    // `dacu progress` shows the same bands for the same boards.
    let pid = dacu_core::contest::lookup(st, Role::Anchor, "a_head").unwrap();
    let prog = c.progress(f, st, pid);
    let race = prog.races.iter().find(|r| r.race == "head_bigday").unwrap();
    let bands: Vec<(String, Option<usize>)> =
        race.boards.iter().map(|b| (b.day.unwrap().to_string(), b.band)).collect();
    assert!(bands.contains(&("2021-11-05".into(), Some(1))), "{bands:?}");
    assert!(bands.contains(&("2021-11-06".into(), None)), "{bands:?}");
    for (day, band) in &bands {
        assert_eq!(band_on(day).map(|x| x.0), Some(*band), "{day}");
    }
}

#[test]
fn a_provider_whose_merchants_sold_nothing_is_not_ranked_at_minus_100_percent() {
    // p3 serves a merchant with no sales at all: it once ranked at −100% growth and took
    // the last band of the provider race.
    let mut e = contests();
    ok(
        &mut e,
        &[
            r#"{"type":"register_merchant","merchant":"m3","name":"Idle","brand_tier":"none","category":"c"}"#,
            r#"{"type":"register_provider","provider":"p3","name":"Idle Partners"}"#,
            r#"{"type":"certify_provider","provider":"p3","at":"2021-11-01T09:00:00+08:00"}"#,
            r#"{"type":"bind_provider","provider":"p3","merchant":"m3","at":"2021-11-01T10:00:00+08:00"}"#,
            r#"{"type":"enroll","program":"provider_race","participant":"p3","at":"2021-11-02T09:00:00+08:00"}"#,
        ],
    );
    let (f, st) = (e.festival(), e.state());
    let c = &st.contests;
    let ri = c.race_index("provider_race").unwrap();
    let (_, p3) = dacu_core::contest::lookup(st, Role::Provider, "p3").unwrap();
    let why = c.gate_failure(st, ri, p3).expect("not ranked");
    assert!(why.contains("no counted GMV in the window"), "{why}");
    let page = c.page(f, st, ri, (None, None), &Page::Owners(vec!["p3".into()])).unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.unranked[0].id, "p3");
    // It joins the board with its first sale in the window, and leaves when that is refunded.
    ok(
        &mut e,
        &[
            r#"{"type":"order_paid","order":"z1","user":"u","merchant":"m3","channel":"shelf","lines":[{"sku":"k","qty":1,"price":500,"paid":500}],"at":"2021-11-05T10:00:00+08:00"}"#,
        ],
    );
    assert!(e.state().contests.eligible(e.state(), ri, p3));
    ok(&mut e, &[r#"{"type":"refund","order":"z1","amount":500,"at":"2021-11-05T11:00:00+08:00"}"#]);
    assert!(!e.state().contests.eligible(e.state(), ri, p3));
    // Settlement pays it nothing.
    ok(&mut e, &[r#"{"type":"settle","id":"s","at":"2021-11-08T00:00:00+08:00"}"#]);
    assert!(e.state().settlement.lines.iter().all(|l| l.participant != "p3"));
}

#[test]
fn growth_contests_are_refused_on_a_track_that_is_not_providers_or_by_category() {
    // A growth race on a merchant track indexed merchants with provider indexes (a
    // panic); grouped by category it was scored on another board than its GMV.
    let src = include_str!("../../../festivals/example-mini.toml");
    let merchant = src.replacen(
        "track = \"provider\"\nprogram = \"provider_race\"",
        "track = \"brand\"\nprogram = \"provider_race\"",
        1,
    );
    assert_ne!(merchant, src);
    let problems = festival::parse(&merchant).expect_err("a growth race on a brand track");
    assert!(problems.iter().any(|p| p.message.contains("needs a provider track")), "{problems:?}");
    let grouped = src.replacen("metric = \"gmv_growth\"", "metric = \"gmv_growth\"\ngroup_by = \"category\"", 1);
    let problems = festival::parse(&grouped).expect_err("a growth race by category");
    assert!(problems.iter().any(|p| p.message.contains("not by category")), "{problems:?}");
}

#[test]
fn the_gap_to_the_next_band_saturates_at_the_largest_score() {
    // A growth score reaches i64::MAX: a floor of 1 fen, no baseline, and some ¥9.2
    // trillion of window GMV. The gap to the next band was `score - mine + 1`, which
    // wrapped (a panic in debug builds, a gap of 0 in release).
    let src = include_str!("../../../festivals/example-mini.toml").replacen("floor_fen = 100_000", "floor_fen = 1", 1);
    let mut e = Engine::new(Arc::new(festival::parse(&src).expect("valid")));
    // The example's registrations and enrolments, and m2's baseline order (not m1's: p1's
    // merchants have no baseline, so p1 grows from the 1-fen floor).
    let example: Vec<&str> = include_str!("../../../examples/contests-mini.jsonl").lines().collect();
    let mut lines: Vec<String> = example[..17].iter().chain(&example[18..19]).map(|l| l.to_string()).collect();
    // m1 (p1's) sells the most one order may come to, again and again, after the baseline.
    for i in 0..93 {
        lines.push(format!(
            r#"{{"type":"order_paid","order":"big{i}","user":"u{i}","merchant":"m1","channel":"shelf","lines":[{{"sku":"k","qty":1000,"price":10000000000,"paid":10000000000000}}],"at":"2021-11-05T10:00:00+08:00"}}"#
        ));
    }
    lines.push(r#"{"type":"order_paid","order":"small","user":"u","merchant":"m2","channel":"shelf","lines":[{"sku":"k","qty":1,"price":500,"paid":500}],"at":"2021-11-05T10:00:00+08:00"}"#.into());
    for l in &lines {
        if let Ok(c) = parse_line(l) {
            let _ = e.execute(&c, &mut Vec::new());
        }
    }
    let (f, st) = (e.festival(), e.state());
    let c = &st.contests;
    let ri = c.race_index("provider_race").unwrap();
    let key = c.find_board(ri, None, None).unwrap();
    let page = serde_json::to_value(c.page(f, st, ri, key, &Page::Top(10)).unwrap()).unwrap();
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows[0]["score"].as_i64(), Some(i64::MAX), "{page}");
    assert_eq!(rows.len(), 2, "{page}");
    // The runner-up, below its baseline, needs more than any score can hold: the gap
    // saturates at the largest score instead of wrapping.
    assert!(rows[1]["score"].as_i64().unwrap() < 0, "{page}");
    assert_eq!(rows[1]["next_band"]["points"].as_i64(), Some(i64::MAX), "{page}");
}

#[test]
fn a_snapshot_curve_minute_years_away_is_refused_while_decoding() {
    // Decoding a session's curve allocates a pointer per hour up to its last minute: one
    // crafted minute near 2^32 used to allocate some 570 MB before any check ran.
    let curve: Result<dacu_core::state::Curve, _> =
        postcard::from_bytes(&postcard::to_stdvec(&vec![(u32::MAX - 1, 1u32, 0u32)]).unwrap());
    assert!(curve.is_err());
    let ok: dacu_core::state::Curve =
        postcard::from_bytes(&postcard::to_stdvec(&vec![(600u32, 2u32, 1u32)]).unwrap()).unwrap();
    assert_eq!(ok.get(600).entries, 2);
}
