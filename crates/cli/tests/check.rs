//! `dacu check` on the shipped festivals and on broken files.

mod common;
use common::*;

#[test]
fn shipped_festivals_are_valid() {
    for name in ["kuaishou-116-2021.toml", "example-mini.toml"] {
        let o = dacu(&["check", p(&festival(name))]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(stdout(&o).trim_end().ends_with("OK"), "{name}: {}", stdout(&o));
    }
}

#[test]
fn the_116_festival_holds_every_phase_program_contest_and_track() {
    let o = dacu(&["check", "--json", p(&festival("kuaishou-116-2021.toml"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let ids = |k: &str| -> Vec<String> {
        v[k].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids("phases"), ["prep", "battle", "warmup", "burst", "aftermath"]);
    assert_eq!(v["phases"][0]["name_zh"], "备战期");
    assert_eq!(v["phases"][1]["start"], "2021-10-20T00:00:00+08:00");
    assert_eq!(v["phases"][1]["end"], "2021-11-12T00:00:00+08:00");
    assert_eq!(v["registration"]["opens"], "2021-09-17T00:00:00+08:00");
    assert_eq!(ids("tracks"), ["anchor", "brand", "provider"]);
    assert_eq!(v["tracks"][2]["budget_fen"], 1_000_000_000, "the ten-million-yuan provider incentive");
    for program in [
        "super_brand_day",
        "super_quality_festival",
        "influencer_booster",
        "super_anchor_challenge",
        "bigday_challenge",
        "new_anchor_bonus",
        "anchor_ranking",
        "brand_ranking",
        "provider_ranking",
    ] {
        assert!(ids("programs").contains(&program.to_string()), "missing program {program}");
    }
    assert_eq!(ids("contests"), ["anchor_ranking", "brand_ranking", "brand_daily_by_industry", "provider_ranking"]);
    assert_eq!(ids("challenges"), ["super_anchor_challenge", "bigday_challenge", "new_anchor_bonus"]);
    assert_eq!(v["support"]["consumer_benefit_multiple"], 6);
    let figures = ids("figures");
    assert_eq!(figures.len(), 7);
    // 2021-09-01 through 2021-11-20.
    assert_eq!(v["days"].as_array().unwrap().len(), 81);
    assert_eq!(v["days"][0], "2021-09-01");
    // The brand contest's top band pays 3% of sales as 粉条 credit.
    let brand = v["reward_tables"].as_array().unwrap().iter().find(|t| t["id"] == "brand_ranking_rewards").unwrap();
    assert_eq!(brand["bands"][0]["items"][0]["share_bp"], 300);
}

const BROKEN: &str = r#"[festival]
id = "bad"
name_zh = "坏"
name_en = "Bad"
start = 2021-11-01
end = 2021-11-08
colour = "red"

[registration]
opens = 2021-10-01
closes = 2021-11-06

[[phases]]
id = "a"
layer = "main"
name_zh = "甲"
name_en = "A"
start = 2021-11-05
end = 2021-11-03

[[tracks]]
id = "anchor"
role = "anchor"
name_zh = "主播"
name_en = "Anchor"
budget_fen = -5

[[programs]]
id = "p"
name_zh = "p"
name_en = "p"
track = "nope"
roles = ["anchor"]

[[reward_tables]]
id = "r"
[[reward_tables.bands]]
rank_from = 1
rank_to = 1
items = [{ kind = "cash", amount_fen = 1 }]

[[contests]]
id = "c"
name_zh = "c"
name_en = "c"
track = "anchor"
program = "missing"
metric = "gmv"
phase = "nowhere"
reward_table = "r2"
"#;

#[test]
fn every_problem_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, BROKEN).unwrap();
    let o = dacu(&["check", p(&file)]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let f = p(&file);
    for expected in [
        format!("{f}:7:1: unknown key `colour` in `festival`"),
        format!("{f}:10:9: `opens` (2021-10-01T00:00:00+08:00) is outside the festival"),
        format!("{f}:19:7: `end` (2021-11-03T00:00:00+08:00) must be after `start`"),
        format!("{f}:26:14: money cannot be negative: -5"),
        format!("{f}:32:9: program `p` refers to undefined track `nope`"),
        format!("{f}:47:11: `c` refers to undefined program `missing`"),
        format!("{f}:49:9: `c` refers to undefined phase `nowhere`"),
        format!("{f}:50:16: `c` refers to undefined reward table `r2`"),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
    assert!(err.contains("8 problems"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn overlapping_phases_of_one_layer_are_refused() {
    let src = std::fs::read_to_string(festival("example-mini.toml"))
        .unwrap()
        .replace("start = 2021-11-04\nend = 2021-11-08", "start = 2021-11-03\nend = 2021-11-08");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overlap.toml");
    std::fs::write(&file, src).unwrap();
    let o = dacu(&["check", p(&file)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("phase `battle` starts before phase `prep` of the same layer ends"), "{}", stderr(&o));
}

#[test]
fn a_syntax_error_has_a_position_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("syntax.toml");
    std::fs::write(&file, "[festival]\nid = \n").unwrap();
    let o = dacu(&["check", p(&file)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with(&format!("{}:2:", p(&file))), "{}", stderr(&o));
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let o = dacu(&["check", "/nonexistent/festival.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/festival.toml"));
}

#[test]
fn an_amount_past_its_bound_fails_the_check_at_its_position() {
    // `amount_fen = 5_000_000_000_000_000_000` once passed, and settlement then paid
    // 2 × 5·10^18 against a ¥100,000 budget.
    let src = std::fs::read_to_string(festival("example-mini.toml")).unwrap().replacen(
        "{ kind = \"cash\", amount_fen = 1_000_000 }",
        "{ kind = \"cash\", amount_fen = 5_000_000_000_000_000_000 }",
        1,
    );
    let line = src.lines().position(|l| l.contains("5_000_000_000_000_000_000")).expect("replaced") + 1;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.toml");
    std::fs::write(&file, src).unwrap();
    let o = dacu(&["check", p(&file)]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:{line}:", p(&file))), "{err}");
    assert!(err.contains("money must be at most 1000000000000000 fen"), "{err}");
}
