//! Regression test (the core side of the record limit): a settlement of a large festival
//! once wrote one 24.6 MB `settled` record, over the log's 16 MiB limit, so the data
//! directory could never be opened again. Now every event stays below
//! `limits::EVENT_BYTES`, a board's frozen order continues across parts, and replaying the
//! parts gives the live state (the same ledger as one unsplit event would).

use dacu_core::digest::digest;
use dacu_core::event::encoded_bytes as event_bytes;
use dacu_core::festival;
use dacu_core::limits::{EVENT_BYTES, SETTLED_PART_BYTES};
use dacu_core::{parse_line, Engine, Event};
use std::sync::Arc;

const FESTIVAL: &str = r#"
[festival]
id = "big-settle"
name_zh = "大结算"
name_en = "Big settlement"
start = 2021-11-01
end = 2021-11-08

[registration]
opens = 2021-11-01
closes = 2021-11-08

[[tracks]]
id = "brand"
role = "merchant"
name_zh = "品牌"
name_en = "Brands"
budget_fen = 10_000_000

[[reward_tables]]
id = "everyone"

[[reward_tables.bands]]
rank_from = 1
rank_to = 1_000_000
items = [{ kind = "cash", amount_fen = 1 }, { kind = "pendant", name = "116" }]

[[contests]]
id = "brand_race"
name_zh = "品牌排位赛"
name_en = "Brand race"
track = "brand"
metric = "gmv"
start = 2021-11-01
end = 2021-11-08
reward_table = "everyone"
"#;

/// Merchants with 128-byte ids, so that the frozen order and the ledger are large.
fn merchant_id(i: usize) -> String {
    format!("{i:0>128}")
}

fn run(e: &mut Engine, line: &str, log: &mut Vec<Event>) {
    let c = parse_line(line).unwrap_or_else(|r| panic!("{line}: {r}"));
    e.execute(&c, log).unwrap_or_else(|r| panic!("{line}: {r}"));
}

#[test]
fn a_large_settlement_is_split_into_events_the_log_accepts_and_replays_to_the_live_state() {
    let f = Arc::new(festival::parse(FESTIVAL).expect("valid"));
    let mut live = Engine::new(f.clone());
    let mut log = Vec::new();
    let n = 32_000;
    for i in 0..n {
        let m = merchant_id(i);
        run(
            &mut live,
            &format!(r#"{{"type":"register_merchant","merchant":"{m}","name":"M","brand_tier":"ka","category":"c"}}"#),
            &mut log,
        );
        run(
            &mut live,
            &format!(
                r#"{{"type":"order_paid","order":"o{i}","user":"u","merchant":"{m}","channel":"shelf","lines":[{{"sku":"k","qty":1,"price":{p},"paid":{p}}}],"at":"2021-11-02T10:00:00+08:00"}}"#,
                p = 100 + i
            ),
            &mut log,
        );
    }
    let before = log.len();
    run(&mut live, r#"{"type":"settle","id":"st","at":"2021-11-08T00:00:00+08:00"}"#, &mut log);
    let parts: Vec<&Event> = log[before..].iter().collect();

    // Several parts, the board's frozen order among more than one of them.
    let with_boards = parts.iter().filter(|e| matches!(e, Event::Settled { boards, .. } if !boards.is_empty())).count();
    assert!(parts.len() > 2, "{} part(s)", parts.len());
    assert!(with_boards >= 2, "the 4+ MB frozen order must continue in a second part");
    for ev in &log {
        let bytes = event_bytes(ev);
        assert!(bytes < EVENT_BYTES, "an event of {bytes} bytes");
        if matches!(ev, Event::Settled { .. }) {
            assert!(bytes <= SETTLED_PART_BYTES, "a settled part of {bytes} bytes");
        }
    }
    let st = live.state();
    assert_eq!(st.settlement.runs.len(), 1);
    assert_eq!(st.settlement.runs[0].boards, 1, "one board, however many parts carried it");
    assert_eq!(st.settlement.lines.len(), 2 * n);
    let board = st.settlement.boards.values().next().unwrap();
    assert_eq!(board.frozen.len(), n, "every entrant, down to one past the last rank band");
    assert_eq!(board.ranked, n as u64);
    // In board order: the highest GMV (the last merchant) first.
    assert_eq!(board.frozen[0].0, merchant_id(n - 1));
    assert_eq!(board.frozen[n - 1].0, merchant_id(0));

    // Replaying the parts gives the live state…
    let mut replay = Engine::new(f.clone());
    for ev in &log {
        replay.apply(ev).unwrap();
    }
    assert_eq!(digest(replay.state()), digest(st));
    // …and so does one unsplit event holding the same settlement: splitting is invisible.
    let mut whole = Engine::new(f);
    for ev in &log[..before] {
        whole.apply(ev).unwrap();
    }
    let (mut boards, mut programs, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    for ev in &log[before..] {
        let Event::Settled { boards: b, programs: p, lines: l, .. } = ev else { panic!("only settled parts") };
        match (boards.last_mut(), b.first()) {
            (Some(prev), Some(next)) if same_board(prev, next) => {
                prev.frozen.extend(next.frozen.iter().cloned());
                boards.extend(b[1..].iter().cloned());
            }
            _ => boards.extend(b.iter().cloned()),
        }
        programs.extend(p.iter().cloned());
        lines.extend(l.iter().cloned());
    }
    let Event::Settled { id, at, .. } = &log[before] else { unreachable!() };
    whole.apply(&Event::Settled { id: id.clone(), at: *at, boards, programs, lines }).unwrap();
    let (a, b) = (&whole.state().settlement, &st.settlement);
    assert_eq!(a.runs, b.runs);
    assert_eq!(a.lines, b.lines);
    assert_eq!(a.boards, b.boards);
    assert_eq!(a.closed_by, b.closed_by);
    assert_eq!(a.payouts, b.payouts);
    assert_eq!(a.paid_fen, b.paid_fen);
}

fn same_board(a: &dacu_core::event::ClosedBoardRec, b: &dacu_core::event::ClosedBoardRec) -> bool {
    (&a.race, a.day, &a.group) == (&b.race, b.day, &b.group)
}
