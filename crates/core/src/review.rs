//! The live-session review (复盘) for `dacu review`: the funnel 进人 → 留人 → 转化 (bring
//! in, keep, convert), the benefits given (盘福利), the products sold (盘货品) and the
//! minute-by-minute curve with its highlights (盘亮点). Built from the state on demand;
//! docs/metrics.md defines every figure. Money is integer fen, ratios are basis points,
//! and every division is floored (all operands are non-negative); a zero denominator
//! gives 0. Lists are ordered, never left in hash order.

use crate::command::InteractionKind;
use crate::market::quote::Layer;
use crate::market::{Audience, CheckoutState};
use crate::state::{minute_of, State, MINUTE_MS};
use crate::time::Ts;
use serde::Serialize;
use std::collections::BTreeMap;

/// Products listed by default.
pub const TOP_PRODUCTS: usize = 10;
/// Minutes listed as sales highlights.
pub const TOP_MINUTES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub session: String,
    pub anchor: String,
    pub anchor_name: String,
    pub start: Ts,
    /// `null` while the session is live.
    pub end: Option<Ts>,
    pub live: bool,
    /// The latest time among the session's own events.
    pub last_at: Ts,
    /// `end` (or `last_at` while live) − `start`, in whole seconds.
    pub duration_s: i64,
    pub bring_in: BringIn,
    pub keep: Keep,
    pub convert: Convert,
    pub benefits: Benefits,
    /// Distinct (merchant, sku) pairs the session's orders bought.
    pub products: u64,
    pub top_products: Vec<Product>,
    pub highlights: Highlights,
    /// Every minute from minute 0 to the minute of `last_at`.
    pub curve: Vec<Minute>,
}

/// 进人: bringing viewers in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BringIn {
    pub unique_viewers: u64,
    pub entries: u64,
    /// The most viewers in the room at once, counted in the order events were applied
    /// (as `dacu show session`).
    pub peak_concurrent: u64,
    /// The most viewers at a minute's end, by time: the curve's peak.
    pub peak_viewers: u64,
    pub viewers_now: u64,
    /// Users whose first follow of the anchor is in [start, end or last_at].
    pub new_followers: u64,
}

/// 留人: keeping them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keep {
    pub watch_ms: i64,
    pub avg_watch_ms: i64,
    pub median_watch_ms: i64,
    pub interactions: BTreeMap<&'static str, u64>,
    pub interactions_total: u64,
}

/// 转化: converting them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Convert {
    pub buyers: u64,
    /// Buyers who also entered the room.
    pub viewer_buyers: u64,
    pub orders: u64,
    pub gmv: i64,
    pub gmv_gross: i64,
    pub refunded: i64,
    /// buyers × 10000 / unique viewers.
    pub conversion_bp: i64,
    /// viewer buyers × 10000 / unique viewers.
    pub viewer_conversion_bp: i64,
    /// GMV × 1000 / entries: fen per thousand entries.
    pub gpm: i64,
    pub gmv_per_viewer: i64,
    pub avg_order_value: i64,
}

/// 盘福利: what the marketing tools gave in the session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Benefits {
    /// Paid checkouts placed in the session; the discount figures are theirs.
    pub checkouts_paid: u64,
    pub discounts: i64,
    pub discounts_by_layer: BTreeMap<&'static str, i64>,
    /// `platform`, `merchants`, `anchors`.
    pub discounts_by_bearer: BTreeMap<&'static str, i64>,
    pub discounts_returned: i64,
    pub coupons: CouponBenefits,
    pub red_packets: PacketBenefits,
    pub lotteries: LotteryBenefits,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CouponBenefits {
    /// Coupon discounts (layers store_coupon and platform_coupon) of the paid checkouts.
    pub redeemed: u64,
    pub cost: i64,
    pub returned: i64,
    /// The checkouts' orders with a share of a coupon discount, and their counted GMV.
    pub orders: u64,
    pub orders_gmv: i64,
    /// Coupons whose audience is the session's room, wherever they were used.
    pub session_coupons: u64,
    pub session_coupons_claimed: u64,
    pub session_coupons_redeemed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PacketBenefits {
    pub count: u64,
    pub total: i64,
    pub granted: i64,
    pub grabbers: u64,
    pub expired: u64,
    pub returned: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LotteryBenefits {
    pub count: u64,
    pub drawn: u64,
    pub winners: u64,
    /// Σ over drawn lotteries of prize value × winners.
    pub prize_value: i64,
}

/// A (merchant, sku) of the session's orders, at payment (refunds are order-level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub merchant: String,
    pub sku: String,
    pub paid: i64,
    pub qty: i64,
    pub orders: u64,
}

/// One minute of the curve: [at, at + 1 min).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Minute {
    pub minute: u32,
    pub at: Ts,
    /// In the room at the minute's end: stays begun before it and not ended before it.
    pub viewers: u64,
    pub entries: u64,
    /// Orders paid in the minute, what they paid, and that less their refunds (whenever
    /// made).
    pub orders: u64,
    pub paid: i64,
    pub gmv: i64,
}

/// 盘亮点: the moments worth replaying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Highlights {
    /// The minute with the most viewers at its end, the earliest on ties; `null` when no
    /// minute ends with a viewer in the room.
    pub peak_viewers: Option<Minute>,
    /// Up to three minutes with GMV, most GMV first, the earliest on ties.
    pub top_gmv: Vec<Minute>,
}

/// ⌊num / den⌋ for non-negative operands; 0 when `den` is 0.
pub fn ratio(num: i64, den: i64) -> i64 {
    if den <= 0 {
        return 0;
    }
    num.div_euclid(den)
}

/// ⌊num × scale / den⌋ without overflow; 0 when `den` is 0.
pub fn scaled(num: i64, scale: i64, den: i64) -> i64 {
    if den <= 0 {
        return 0;
    }
    (num as i128 * scale as i128).div_euclid(den as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The median of ascending values: the middle one, or the floored mean of the two middle
/// ones; 0 for none.
pub fn median(sorted: &[i64]) -> i64 {
    let n = sorted.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => ((sorted[n / 2 - 1] as i128 + sorted[n / 2] as i128).div_euclid(2)) as i64,
    }
}

/// Each unique viewer's watch time in ms, ascending: finished stays, plus a stay still
/// open counted up to the session's end (which closes every stay) or, while live, to
/// `last_at`.
pub fn watch_times(st: &State, si: u32) -> Vec<i64> {
    let s = &st.sessions[si as usize];
    let close = s.close_at();
    let mut v: Vec<i64> = s
        .unique_viewers
        .iter()
        .map(|u| {
            let done = s.watch.get(u);
            done + s.present.get(&u).map_or(0, |e| (close.0 - e.0).max(0))
        })
        .collect();
    v.sort_unstable();
    v
}

/// The curve: every minute from 0 to the minute of `last_at`.
pub fn curve(st: &State, si: u32) -> Vec<Minute> {
    let s = &st.sessions[si as usize];
    let n = s.minute_of(s.last_at) as usize + 1;
    let mut v: Vec<Minute> = (0..n)
        .map(|m| Minute {
            minute: m as u32,
            at: Ts(s.start.0 + m as i64 * MINUTE_MS),
            viewers: 0,
            entries: 0,
            orders: 0,
            paid: 0,
            gmv: 0,
        })
        .collect();
    let mut inside: i64 = 0;
    for x in v.iter_mut() {
        let c = s.curve.get(x.minute);
        inside += c.entries as i64 - c.left as i64;
        x.entries = c.entries as u64;
        x.viewers = inside.max(0) as u64;
    }
    for o in st.orders.values().filter(|o| o.session.get() == Some(si)) {
        // OrderPaid moves last_at, so every order of the session falls in the curve.
        if let Some(x) = v.get_mut(minute_of(s.start, o.at) as usize) {
            x.orders += 1;
            x.paid += o.paid.0;
            x.gmv += (o.paid - o.refunded).0;
        }
    }
    v
}

fn highlights(curve: &[Minute]) -> Highlights {
    let mut peak: Option<Minute> = None;
    for m in curve {
        if m.viewers > peak.map_or(0, |p| p.viewers) {
            peak = Some(*m);
        }
    }
    let mut top: Vec<Minute> = curve.iter().filter(|m| m.gmv > 0).copied().collect();
    top.sort_by(|a, b| b.gmv.cmp(&a.gmv).then(a.minute.cmp(&b.minute)));
    top.truncate(TOP_MINUTES);
    Highlights { peak_viewers: peak, top_gmv: top }
}

fn benefits(st: &State, si: u32) -> Benefits {
    let m = &st.market;
    let mut b = Benefits::default();
    let paid_here = |c: &&crate::market::Checkout| c.session == Some(si) && matches!(c.state, CheckoutState::Paid(_));
    for (ci, c) in m.checkouts.iter().enumerate().filter(|(_, c)| paid_here(c)) {
        b.checkouts_paid += 1;
        // The merchants whose order has a share of a coupon discount.
        let mut coupon_merchants: Vec<&str> = Vec::new();
        for (i, d) in c.quote.discounts.iter().enumerate() {
            let returned = c.returned.get(i).copied().unwrap_or(0);
            b.discounts += d.amount;
            *b.discounts_by_layer.entry(d.layer.as_str()).or_default() += d.amount;
            b.discounts_returned += returned;
            for (who, amount) in &d.bearers {
                let kind = match who.split(':').next() {
                    Some("merchant") => "merchants",
                    Some("anchor") => "anchors",
                    _ => "platform",
                };
                *b.discounts_by_bearer.entry(kind).or_default() += amount;
            }
            if matches!(d.layer, Layer::StoreCoupon | Layer::PlatformCoupon) {
                b.coupons.redeemed += 1;
                b.coupons.cost += d.amount;
                b.coupons.returned += returned;
                for (line, share) in c.quote.lines.iter().zip(&d.lines) {
                    if *share > 0 {
                        coupon_merchants.push(&line.merchant);
                    }
                }
            }
        }
        coupon_merchants.sort_unstable();
        coupon_merchants.dedup();
        let ck = m.checkout_ids.name(ci as u32);
        for merchant in coupon_merchants {
            b.coupons.orders += 1;
            if let Some(o) = st.orders.get(crate::market::Checkout::order_id(ck, merchant).as_str()) {
                b.coupons.orders_gmv += (o.paid - o.refunded).0;
            }
        }
    }
    for c in m.coupons.iter().filter(|c| c.audience == Audience::Session(si)) {
        b.coupons.session_coupons += 1;
        b.coupons.session_coupons_claimed += c.claimed;
        b.coupons.session_coupons_redeemed += c.redeemed;
    }
    for p in m.packets.iter().filter(|p| p.session == si) {
        let r = &mut b.red_packets;
        r.count += 1;
        r.total += p.total.0;
        r.granted += p.granted.0;
        r.grabbers += p.grabbers.len() as u64;
        if let Some(x) = p.returned {
            r.expired += 1;
            r.returned += x.0;
        }
    }
    for l in m.lotteries.iter().filter(|l| l.session == si) {
        let r = &mut b.lotteries;
        r.count += 1;
        if let Some(d) = &l.drawn {
            r.drawn += 1;
            r.winners += d.winners.len() as u64;
            r.prize_value += l.prize.value.0 * d.winners.len() as i64;
        }
    }
    b
}

/// The review of session `id`, with the `top` best-selling products; `None` if no
/// session has that id.
pub fn review(st: &State, id: &str, top: usize) -> Option<Review> {
    let si = st.session_ids.get(id)?;
    let s = &st.sessions[si as usize];
    let close = s.close_at();
    let viewers = s.unique_viewers.len() as i64;

    let new_followers =
        st.market.follows.iter().filter(|(&(a, _), &t)| a == s.anchor && s.start <= t && t <= close).count() as u64;
    let watch = watch_times(st, si);
    let watch_ms: i64 = watch.iter().sum();
    let interactions: BTreeMap<&'static str, u64> =
        InteractionKind::ALL.iter().map(|k| (k.as_str(), s.interactions[k.index()])).collect();

    let total = s.stats.total();
    let gmv = total.net().0;
    let buyers = s.stats.buyers.len() as i64;
    let viewer_buyers = s.stats.buyers.iter().filter(|&u| s.unique_viewers.contains(u)).count() as i64;
    let orders = s.stats.orders_total() as i64;

    let mut products: Vec<Product> = s
        .products
        .iter()
        .map(|(&(m, k), p)| Product {
            merchant: st.merchant_ids.name(m).to_string(),
            sku: st.skus.name(k).to_string(),
            paid: p.paid.0,
            qty: p.qty,
            orders: p.orders,
        })
        .collect();
    products.sort_by(|a, b| b.paid.cmp(&a.paid).then_with(|| (&a.merchant, &a.sku).cmp(&(&b.merchant, &b.sku))));
    let n_products = products.len() as u64;
    products.truncate(top);

    let curve = curve(st, si);
    Some(Review {
        session: id.to_string(),
        anchor: st.anchor_ids.name(s.anchor).to_string(),
        anchor_name: st.anchors[s.anchor as usize].name.clone(),
        start: s.start,
        end: s.end,
        live: s.end.is_none(),
        last_at: s.last_at,
        duration_s: (close.0 - s.start.0).max(0) / 1000,
        bring_in: BringIn {
            unique_viewers: viewers as u64,
            entries: s.entries,
            peak_concurrent: s.peak_concurrent,
            peak_viewers: curve.iter().map(|m| m.viewers).max().unwrap_or(0),
            viewers_now: s.present.len() as u64,
            new_followers,
        },
        keep: Keep {
            watch_ms,
            avg_watch_ms: ratio(watch_ms, viewers),
            median_watch_ms: median(&watch),
            interactions_total: interactions.values().sum(),
            interactions,
        },
        convert: Convert {
            buyers: buyers as u64,
            viewer_buyers: viewer_buyers as u64,
            orders: orders as u64,
            gmv,
            gmv_gross: total.gross.0,
            refunded: total.refunded.0,
            conversion_bp: scaled(buyers, 10_000, viewers),
            viewer_conversion_bp: scaled(viewer_buyers, 10_000, viewers),
            gpm: scaled(gmv, 1000, s.entries as i64),
            gmv_per_viewer: ratio(gmv, viewers),
            avg_order_value: ratio(gmv, orders),
        },
        benefits: benefits(st, si),
        products: n_products,
        top_products: products,
        highlights: highlights(&curve),
        curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{festival, parse_line, Engine};
    use std::sync::Arc;

    fn engine(lines: &[&str]) -> Engine {
        let f = festival::parse(include_str!("../../../festivals/example-mini.toml")).expect("valid");
        let mut e = Engine::new(Arc::new(f));
        let setup = [
            r#"{"type":"register_merchant","merchant":"m1","name":"M","brand_tier":"ka","category":"food"}"#,
            r#"{"type":"register_anchor","anchor":"a1","name":"A","followers":100}"#,
            r#"{"type":"live_start","session":"s1","anchor":"a1","at":"2021-11-05T20:00:00+08:00"}"#,
        ];
        for l in setup.iter().chain(lines) {
            let c = parse_line(l).unwrap_or_else(|r| panic!("{l}: {r}"));
            e.execute(&c, &mut Vec::new()).unwrap_or_else(|r| panic!("{l}: {r}"));
        }
        e
    }

    fn enter(user: &str, hms: &str) -> String {
        format!(r#"{{"type":"viewer_enter","session":"s1","user":"{user}","at":"2021-11-05T{hms}+08:00"}}"#)
    }

    fn leave(user: &str, hms: &str) -> String {
        format!(r#"{{"type":"viewer_leave","session":"s1","user":"{user}","at":"2021-11-05T{hms}+08:00"}}"#)
    }

    fn run(lines: &[String]) -> Review {
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        review(engine(&refs).state(), "s1", TOP_PRODUCTS).expect("s1")
    }

    fn viewers(r: &Review) -> Vec<u64> {
        r.curve.iter().map(|m| m.viewers).collect()
    }

    #[test]
    fn median_takes_the_middle_or_the_floored_mean_of_the_two_middles() {
        assert_eq!(median(&[]), 0);
        assert_eq!(median(&[7]), 7);
        assert_eq!(median(&[1, 5, 100]), 5);
        assert_eq!(median(&[1, 4]), 2, "2.5 floors to 2");
        assert_eq!(median(&[0, 3, 4, 1000]), 3, "3.5 floors to 3");
        assert_eq!(median(&[i64::MAX, i64::MAX]), i64::MAX, "no overflow");
    }

    #[test]
    fn ratios_floor_and_a_zero_denominator_gives_zero() {
        assert_eq!(ratio(17_500, 4), 4375);
        assert_eq!(ratio(10, 3), 3);
        assert_eq!(ratio(5, 0), 0);
        assert_eq!(scaled(2, 10_000, 3), 6666);
        assert_eq!(scaled(i64::MAX, 1000, 1000), i64::MAX);
        assert_eq!(scaled(1, 10_000, 0), 0);
    }

    #[test]
    fn minutes_without_events_carry_the_viewers_and_a_re_entry_counts_once_per_user() {
        let r = run(&[
            enter("u1", "20:00:10"),
            leave("u1", "20:02:00"),
            // Entered and left within minute 3: an entry, but nobody at the minute's end.
            enter("u2", "20:03:05"),
            leave("u2", "20:03:50"),
            // Minutes 4 to 6 have no event at all.
            enter("u1", "20:07:00"),
            r#"{"type":"live_end","session":"s1","at":"2021-11-05T20:09:30+08:00"}"#.into(),
        ]);
        assert_eq!(r.curve.len(), 10, "minutes 0..=9: the end falls in minute 9");
        assert_eq!(viewers(&r), [1, 1, 0, 0, 0, 0, 0, 1, 1, 0]);
        let entries: Vec<u64> = r.curve.iter().map(|m| m.entries).collect();
        assert_eq!(entries, [1, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
        assert_eq!(r.curve[4].at, Ts::parse("2021-11-05T20:04:00+08:00").unwrap());
        assert_eq!((r.bring_in.unique_viewers, r.bring_in.entries), (2, 3));
        // u1: 110 s + 150 s; u2: 45 s.
        assert_eq!(r.keep.watch_ms, 305_000);
        assert_eq!(r.keep.median_watch_ms, (45_000 + 260_000) / 2);
        assert_eq!(r.keep.avg_watch_ms, 152_500);
        assert_eq!(r.highlights.peak_viewers.map(|m| m.minute), Some(0), "the earliest of the ties");
        assert!(r.highlights.top_gmv.is_empty());
        assert_eq!(r.duration_s, 570);
    }

    #[test]
    fn an_ongoing_session_counts_open_stays_up_to_its_latest_event() {
        let r = run(&[
            enter("u1", "20:00:00"),
            enter("u2", "20:01:00"),
            leave("u2", "20:02:00"),
            // The latest event of the session: a comment at 20:05:30.
            r#"{"type":"interaction","session":"s1","user":"u9","kind":"comment","at":"2021-11-05T20:05:30+08:00"}"#
                .into(),
            // Earlier in time, later in the stream: last_at stays at 20:05:30.
            r#"{"type":"interaction","session":"s1","user":"u9","kind":"like","at":"2021-11-05T20:03:00+08:00"}"#
                .into(),
        ]);
        assert!(r.live);
        assert_eq!(r.end, None);
        assert_eq!(r.last_at, Ts::parse("2021-11-05T20:05:30+08:00").unwrap());
        assert_eq!(r.duration_s, 330);
        assert_eq!(r.bring_in.viewers_now, 1);
        // u1 is still in the room: 330 s so far; u2 watched 60 s.
        assert_eq!(r.keep.watch_ms, 390_000);
        assert_eq!(r.keep.median_watch_ms, 195_000);
        assert_eq!(viewers(&r), [1, 2, 1, 1, 1, 1]);
        assert_eq!(r.keep.interactions["comment"], 1);
        assert_eq!(r.keep.interactions_total, 2);
    }

    #[test]
    fn the_curve_follows_time_whatever_order_the_stream_comes_in() {
        let r = run(&[
            enter("u1", "20:00:00"),
            leave("u1", "20:10:00"),
            // Sent after u1 left, but u2 was in the room with u1 from 20:05 to 20:06.
            enter("u2", "20:05:00"),
            leave("u2", "20:06:00"),
        ]);
        assert_eq!(r.bring_in.peak_concurrent, 1, "in stream order the two stays never overlap");
        // A stay that ends exactly at a minute's end is counted at that end.
        assert_eq!(viewers(&r), [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 0]);
        assert_eq!(r.bring_in.peak_viewers, 2);
        assert_eq!(r.highlights.peak_viewers.map(|m| (m.minute, m.viewers)), Some((5, 2)));
    }

    #[test]
    fn an_end_sent_with_a_time_before_an_entry_never_makes_the_curve_negative() {
        let r = run(&[
            enter("u1", "20:10:00"),
            r#"{"type":"live_end","session":"s1","at":"2021-11-05T20:05:00+08:00"}"#.into(),
        ]);
        // The stay ends when it began: 0 s, and nobody is left at any minute's end.
        assert_eq!(r.keep.watch_ms, 0);
        assert_eq!(r.curve.len(), 11, "last_at is the entry at 20:10");
        assert!(viewers(&r).iter().all(|&v| v == 0), "{:?}", viewers(&r));
        assert_eq!(r.duration_s, 300, "the duration runs to the end");
        assert_eq!(r.highlights.peak_viewers, None);
    }

    #[test]
    fn orders_fill_the_minutes_they_were_paid_in_and_refunds_come_off_that_minute() {
        let e = engine(&[
            r#"{"type":"order_paid","order":"o1","user":"u1","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"a","qty":2,"price":1000,"paid":1800},{"sku":"b","qty":1,"price":500,"paid":500}],"at":"2021-11-05T20:02:10+08:00"}"#,
            r#"{"type":"order_paid","order":"o2","user":"u2","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"b","qty":3,"price":500,"paid":1500}],"at":"2021-11-05T20:02:59+08:00"}"#,
            r#"{"type":"order_paid","order":"o3","user":"u2","merchant":"m1","channel":"live","session":"s1","lines":[{"sku":"a","qty":1,"price":1000,"paid":1000}],"at":"2021-11-05T20:04:00+08:00"}"#,
            r#"{"type":"refund","order":"o2","amount":1500,"at":"2021-11-06T10:00:00+08:00"}"#,
        ]);
        let r = review(e.state(), "s1", 1).unwrap();
        let at2 = r.curve[2];
        assert_eq!((at2.orders, at2.paid, at2.gmv), (2, 3800, 2300));
        assert_eq!((r.curve[4].orders, r.curve[4].gmv), (1, 1000));
        assert_eq!(r.highlights.top_gmv.iter().map(|m| m.minute).collect::<Vec<_>>(), [2, 4]);
        // Products rank by paid: a 2800 (2 orders, qty 3) before b 2000; one asked for.
        assert_eq!(r.products, 2);
        assert_eq!(r.top_products, [Product { merchant: "m1".into(), sku: "a".into(), paid: 2800, qty: 3, orders: 2 }]);
        assert_eq!((r.convert.gmv, r.convert.gmv_gross, r.convert.orders, r.convert.buyers), (3300, 4800, 3, 2));
        // Nobody entered the room: the per-viewer figures divide by zero and give 0.
        assert_eq!((r.convert.conversion_bp, r.convert.gmv_per_viewer, r.convert.gpm), (0, 0, 0));
        assert_eq!(r.convert.avg_order_value, 1100);
    }

    #[test]
    fn the_curve_state_survives_serialisation() {
        let e = engine(&[&enter("u1", "20:00:00"), &leave("u1", "23:59:00"), &enter("u2", "20:30:00")]);
        let s = &e.state().sessions[0];
        let text = serde_json::to_string(&s.curve).unwrap();
        assert_eq!(text, "[[0,1,0],[30,1,0],[239,0,1]]");
        let back: crate::state::Curve = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s.curve);
    }
}
