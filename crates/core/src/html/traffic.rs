//! The report's traffic sections: traffic granted, and guaranteed traffic delivered.

use super::*;

pub(super) fn traffic(r: &Report) -> String {
    let t = &r.traffic;
    let rows = t.impressions_by_track.iter().map(|(track, n)| {
        let bar = hbar("bar", &[(*n, PALETTE[2], count(*n))], t.impressions, &[]);
        [track.as_str().into(), Cell::Html(bar), count(*n).into(), fmt_bp(share_bp(*n, t.impressions)).into()]
    });
    let granted = tiles(&[
        ("traffic-pack impressions granted", count(t.impressions)),
        ("main-venue slots 主会场资源位", count(t.main_venue_slots)),
    ]) + &table(["track", "", "impressions", "share"], &[2, 3], rows.collect());
    granted + &r.traffic_delivery.as_ref().map_or(String::new(), delivery)
}

/// Guaranteed traffic delivered: tiles, per track delivered against promised, and each
/// track's cumulative delivery against its target by day.
fn delivery(d: &crate::traffic::view::Delivery) -> String {
    let as_i = |x: u64| x.min(i64::MAX as u64) as i64;
    let mut out = tiles(&[
        ("guaranteed impressions promised", count(as_i(d.promised))),
        ("delivered", count(as_i(d.delivered))),
        ("owed", count(as_i(d.owed))),
    ]);
    let rows = d.by_track.iter().map(|t| {
        let bar = hbar("bar", &[(as_i(t.delivered), PALETTE[2], count(as_i(t.delivered)))], as_i(t.promised), &[]);
        [
            t.track.as_str().into(),
            Cell::Html(bar),
            count(as_i(t.promised)).into(),
            count(as_i(t.delivered)).into(),
            count(as_i(t.owed)).into(),
        ]
    });
    out += &table(["track", "", "promised", "delivered", "owed"], &[2, 3, 4], rows.collect());
    for t in &d.by_track {
        let top = t.curve.iter().map(|p| as_i(p.cumulative.max(p.target))).max().unwrap_or(0);
        let rows = t.curve.iter().filter(|p| p.target > 0 || p.cumulative > 0).map(|p| {
            let bar = hbar("bar", &[(as_i(p.cumulative), PALETTE[2], count(as_i(p.cumulative)))], top, &[]);
            [p.day.to_string().into(), Cell::Html(bar), count(as_i(p.cumulative)).into(), count(as_i(p.target)).into()]
        });
        out += &format!("<h3>Delivery curve: {}</h3>", escape(&t.track));
        out += &table(["day", "delivered so far", "impressions", "target"], &[2, 3], rows.collect());
    }
    out
}
