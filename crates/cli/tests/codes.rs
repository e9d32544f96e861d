//! `dacu codes`: every rejection code with its kind, as a table and as JSON.

mod common;
use common::*;

#[test]
fn codes_lists_every_code_with_its_kind() {
    let o = dacu(&["codes", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let rows = v.as_array().expect("an array");
    assert_eq!(rows.len(), dacu_core::Code::ALL.len());
    for (row, c) in rows.iter().zip(dacu_core::Code::ALL) {
        assert_eq!(row["code"], c.as_str());
        assert_eq!(row["kind"], c.kind().as_str());
        assert_eq!(row["meaning"], c.meaning());
    }
    assert_eq!(rows.iter().find(|r| r["code"] == "sold_out").expect("sold_out")["kind"], "refused");

    let o = dacu(&["codes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let header = text.lines().next().expect("a header");
    assert!(header.split_whitespace().eq(["code", "kind", "meaning"]), "{header}");
    let line = text.lines().find(|l| l.trim_start().starts_with("unknown_order ")).expect("unknown_order");
    assert_eq!(line.split_whitespace().nth(1), Some("not_found"), "{line}");
}
