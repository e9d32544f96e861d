//! A plan written as commands, day by day through the festival's calendar.

use super::plan::Plan;
use super::Profile;
use crate::rng::{Rng, Zipf};
use crate::{day_weights, traffic, ts, SECONDS_PER_DAY};
use dacu_core::festival::{BrandTier, Festival, Role};
use dacu_core::time::{Day, Ts};
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::io::{self, Write};

/// Of what is paid, the share refunds take back on average: 6% refunded whole, 3% a third.
const EXPECTED_REFUND_BP: i64 = 700;

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub commands: u64,
    pub orders: u64,
    pub refunds: u64,
    pub sessions: u64,
    pub red_packets: u64,
    pub impressions: u64,
    pub settlements: u64,
    /// Net GMV the orders were drawn to (what the report should find, before refunds
    /// that fall after the festival's last day, which are not drawn).
    pub planned_fen: i64,
}

/// What an anchor sells: (merchant, planned fen, sold so far, the threshold of the next
/// order).
pub(super) type Sells = Vec<(usize, i64, i64, u32)>;

pub(super) struct W<'a, O: Write> {
    pub(super) f: &'a Festival,
    pub(super) plan: &'a Plan,
    pub(super) out: O,
    pub(super) rng: Rng,
    pub(super) units: i64,
    pub(super) sum: Written,
    pub(super) users: u64,
    pub(super) sku_pop: Vec<Zipf>,
    /// Refunds due: (day, order, amount), in day order.
    pub(super) refunds: VecDeque<(Day, u64, i64)>,
    pub(super) next_vid: u64,
    pub(super) next_id: u64,
    pub(super) last_day: Day,
    /// Red packets per fen sold live: (the profile's red packets, the planned live GMV).
    pub(super) red_packets: (i64, i64),
}

/// Planned GMV of every merchant and anchor, fen.
struct Sizes {
    merchants: Vec<i64>,
    anchors: Vec<i64>,
}

/// One drawn order: its line, what is paid and what a later refund takes back.
pub(super) struct Drawn {
    pub(super) lines: String,
    pub(super) paid: i64,
    pub(super) refund: i64,
}

pub(crate) fn write(
    p: &Profile,
    f: &Festival,
    plan: &Plan,
    units: u64,
    seed: u64,
    out: impl Write,
    mut progress: impl FnMut(u64),
) -> io::Result<Written> {
    let live: i64 = plan.merchants.iter().map(|m| m.self_broadcast_fen).sum::<i64>()
        + plan.pieces.iter().map(|x| x.fen).sum::<i64>();
    let planned = live + plan.merchants.iter().map(|m| m.shelf_fen).sum::<i64>();
    // About ¥630 an order at full scale; a buyer orders about three times.
    let orders = planned / 63_000 / units as i64;
    let days = f.days();
    let mut w = W {
        f,
        plan,
        out: io::BufWriter::with_capacity(1 << 20, out),
        rng: Rng::new(seed),
        units: units as i64,
        sum: Written { planned_fen: planned, ..Written::default() },
        users: (orders / 3).max(1_000) as u64,
        sku_pop: plan.merchants.iter().map(|m| Zipf::new(m.skus.len())).collect(),
        refunds: VecDeque::new(),
        next_vid: 0,
        next_id: 0,
        last_day: *days.last().expect("a festival has days"),
        red_packets: (p.red_packets_fen, live.max(1)),
    };
    w.registrations()?;
    // What each anchor sells: its own brand, or its pieces.
    let mut sells: Vec<Sells> = vec![Vec::new(); plan.anchors.len()];
    let mut sizes = Sizes {
        merchants: plan.merchants.iter().map(|m| m.self_broadcast_fen + m.shelf_fen).collect(),
        anchors: vec![0; plan.anchors.len()],
    };
    for (i, m) in plan.merchants.iter().enumerate() {
        if let Some(a) = m.account {
            let theta = w.theta();
            sells[a].push((i, m.self_broadcast_fen, 0, theta));
            sizes.anchors[a] += m.self_broadcast_fen;
        }
    }
    for x in &plan.pieces {
        let theta = w.theta();
        sells[x.anchor].push((x.merchant, x.fen, 0, theta));
        sizes.anchors[x.anchor] += x.fen;
        sizes.merchants[x.merchant] += x.fen;
    }
    w.enrolments(p, &sizes)?;
    let mut shelf: Vec<(i64, u32)> = (0..plan.merchants.len()).map(|_| (0, w.theta())).collect();
    let weights = day_weights(f);
    let total_w: u64 = weights.iter().map(|(_, w)| w).sum();
    let race_ends: BTreeSet<Ts> = dacu_core::contest::race_defs(f).iter().map(|d| d.end).collect();
    let mut supply = traffic::Supply::new(f, seed, crate::TRAFFIC_ERROR_PCT);
    let mut cum_w = 0u64;
    for (d, wd) in weights {
        cum_w += wd;
        let day = d.to_string();
        if race_ends.contains(&Ts::start_of(d)) {
            w.sum.settlements += 1;
            let n = w.sum.settlements;
            w.line(&format!(r#"{{"type":"settle","id":"profile-settle-{n}","at":"{}"}}"#, ts(&day, 0)))?;
        }
        if let Some(s) = &mut supply {
            let n = s.day(d, &mut w.out)?;
            w.sum.commands += n;
            w.sum.impressions += n;
        }
        w.refunds_due(d, &day)?;
        let due = |fen: i64| (fen as i128 * cum_w as i128 / total_w as i128) as i64;
        for (m, (sold, theta)) in shelf.iter_mut().enumerate() {
            let goal = due(plan.merchants[m].shelf_fen);
            while let Some(o) = w.next_order(m, goal - *sold, theta) {
                *sold += o.paid - o.refund;
                w.shelf_order(m, d, &day, o)?;
            }
        }
        for (a, list) in sells.iter_mut().enumerate() {
            let owed: i64 = list.iter().map(|&(_, fen, sold, _)| due(fen) - sold).sum();
            // An anchor with something due goes live (a stream in which nothing sells is
            // not written).
            if owed > 0 {
                w.session(a, list, &due, d, &day)?;
            }
        }
        w.line(&format!(r#"{{"type":"tick","id":"profile-tick-{day}","at":"{}"}}"#, ts(&day, SECONDS_PER_DAY - 1)))?;
        progress(w.sum.commands);
    }
    w.out.flush()?;
    Ok(w.sum)
}

impl<O: Write> W<'_, O> {
    pub(super) fn line(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.sum.commands += 1;
        Ok(())
    }

    fn registrations(&mut self) -> io::Result<()> {
        let plan = self.plan;
        for (i, m) in plan.merchants.iter().enumerate() {
            let (tier, cat) = (m.tier.as_str(), &plan.categories[m.category]);
            self.line(&format!(r#"{{"type":"register_merchant","merchant":"m{i}","name":"Merchant {i}","brand_tier":"{tier}","category":"{cat}"}}"#))?;
        }
        for (j, a) in plan.anchors.iter().enumerate() {
            let line = match a.brand {
                Some(m) => format!(
                    r#"{{"type":"register_anchor","anchor":"a{j}","name":"Official {m}","followers":{},"merchant":"m{m}"}}"#,
                    a.followers
                ),
                None => format!(
                    r#"{{"type":"register_anchor","anchor":"a{j}","name":"Anchor {j}","followers":{}}}"#,
                    a.followers
                ),
            };
            self.line(&line)?;
        }
        for p in 0..plan.providers {
            self.line(&format!(r#"{{"type":"register_provider","provider":"p{p}","name":"Provider {p}"}}"#))?;
        }
        // Certified and bound at the festival's start, before anything is sold: a served
        // brand's every order is provider-served.
        let start = self.f.start();
        for &p in &plan.certified {
            self.line(&format!(r#"{{"type":"certify_provider","provider":"p{p}","at":"{start}"}}"#))?;
        }
        for (i, m) in plan.merchants.iter().enumerate() {
            if let Some(p) = m.provider {
                self.line(&format!(
                    r#"{{"type":"bind_provider","provider":"p{p}","merchant":"m{i}","at":"{start}"}}"#
                ))?;
            }
        }
        Ok(())
    }

    /// Enrolments in every program a participant may enter, with the shopping-experience
    /// score set at the first. SKA and KA brands enter every program open to them, with a
    /// score above the usual 4.30 gate (they run the festival's biggest stores). Of the
    /// others, one in `10,000 / enrol_bp` enters, taken systematically down the eligible
    /// list ordered by planned size (from a drawn offset), and every tenth of those who
    /// enter has a score below the gate: so the mix of sizes that enters, and passes, is the
    /// same whatever the seed.
    fn enrolments(&mut self, p: &Profile, sizes: &Sizes) -> io::Result<()> {
        let (f, plan) = (self.f, self.plan);
        let every = 10_000u64.checked_div(p.enrol_bp).map_or(u64::MAX, |k| k.max(1));
        let mut scored: HashSet<String> = HashSet::new();
        for prog in &f.programs {
            let (opens, closes) = f.enroll_window(prog);
            let span = (closes.0 - opens.0).clamp(1, 14 * 86_400_000) as u64;
            for role in &prog.roles {
                // (planned size, id, brand), the largest first.
                let mut who: Vec<(i64, String, bool)> = match role {
                    Role::Merchant => (0..plan.merchants.len())
                        .filter(|&i| prog.brand_tiers.as_ref().is_none_or(|t| t.contains(&plan.merchants[i].tier)))
                        .map(|i| (sizes.merchants[i], format!("m{i}"), plan.merchants[i].tier != BrandTier::None))
                        .collect(),
                    Role::Anchor => (0..plan.anchors.len())
                        .filter(|&j| {
                            let tier = f.anchor_tiers.get(plan.anchors[j].tier).map_or("", |t| t.id.as_str());
                            prog.anchor_tiers.as_ref().is_none_or(|t| t.iter().any(|x| x == tier))
                        })
                        .map(|j| (sizes.anchors[j], format!("a{j}"), false))
                        .collect(),
                    Role::Provider => plan.certified.iter().map(|p| (0, format!("p{p}"), false)).collect(),
                };
                who.sort_by_key(|x| std::cmp::Reverse(x.0));
                let role_s = role.as_str();
                let offset = self.rng.below(every.min(1 << 20));
                let mut others = 0u64;
                let mut entered = 0u64;
                for (_, id, brand) in who {
                    if !brand {
                        others += 1;
                        if !(others + offset).is_multiple_of(every) {
                            continue;
                        }
                        entered += 1;
                    }
                    let at = Ts(opens.0 + self.rng.below(span) as i64);
                    self.line(&format!(
                        r#"{{"type":"enroll","program":"{}","participant":"{id}","role":"{role_s}","at":"{at}"}}"#,
                        prog.id
                    ))?;
                    if scored.insert(id.clone()) {
                        let pass = brand || !(entered + offset).is_multiple_of(10);
                        let c = if pass { 430 + self.rng.below(71) } else { 380 + self.rng.below(50) };
                        let n = scored.len();
                        self.line(&format!(
                            r#"{{"type":"set_experience_score","id":"profile-score-{n}","participant":"{id}","role":"{role_s}","score":{}.{:02},"at":"{at}"}}"#,
                            c / 100,
                            c % 100
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The next order of merchant `m`, if what is left to sell (`left` fen) reaches the
    /// plan's threshold: so the sold total equals the plan on average, and lands within
    /// an order of it.
    pub(super) fn next_order(&mut self, m: usize, left: i64, theta: &mut u32) -> Option<Drawn> {
        if left <= 0 {
            return None;
        }
        let merchant = &self.plan.merchants[m];
        let k = self.sku_pop[m].sample(&mut self.rng).min(merchant.skus.len() - 1);
        let price = merchant.skus[k];
        let qty = (1 + (self.rng.below(10) / 8) as i64) * self.units;
        let list = price * qty;
        let paid = list - list * self.rng.below(21) as i64 / 100;
        let roll = self.rng.below(10_000);
        let refund = match roll {
            0..600 => paid,
            600..900 => paid / 3,
            _ => 0,
        };
        // Whether it is sold does not depend on its refund, so refunds keep their rate; and
        // it is sold once what is left reaches `theta` (a uniform fraction drawn anew after
        // each sale) of what it nets: plans smaller than an order, at a coarse scale, are
        // then sold in full on average.
        let expected_net = paid as i128 * (10_000 - EXPECTED_REFUND_BP) as i128 / 10_000;
        let sold = (*theta as i128) * expected_net <= (left as i128) << 30;
        if sold {
            *theta = self.theta();
        }
        sold.then(|| Drawn {
            lines: format!(r#"[{{"sku":"m{m}-k{k}","qty":{qty},"price":{price},"paid":{paid}}}]"#),
            paid,
            refund,
        })
    }

    /// Records the order and schedules its refund a few days later — or none, when that
    /// falls after the festival's last day (so the plan counts what is in fact refunded).
    pub(super) fn order(&mut self, d: Day, o: &Drawn) -> u64 {
        let n = self.sum.orders;
        self.sum.orders += 1;
        if o.refund > 0 {
            let later = Day(d.0 + 1 + self.rng.below(5) as i32);
            if later <= self.last_day {
                let pos = self.refunds.iter().rposition(|r| r.0 <= later).map_or(0, |i| i + 1);
                self.refunds.insert(pos, (later, n, o.refund));
            }
        }
        n
    }

    /// A plan's threshold: a uniform fraction in 2^-30ths.
    pub(super) fn theta(&mut self) -> u32 {
        self.rng.below(1 << 30) as u32
    }

    pub(super) fn user(&mut self) -> u64 {
        self.rng.below(self.users)
    }

    fn shelf_order(&mut self, m: usize, d: Day, day: &str, o: Drawn) -> io::Result<()> {
        let n = self.order(d, &o);
        let u = self.user();
        let at = ts(day, self.rng.range(8 * 3600, 23 * 3600));
        self.line(&format!(r#"{{"type":"order_paid","order":"o{n}","user":"u{u}","merchant":"m{m}","channel":"shelf","lines":{},"at":"{at}"}}"#, o.lines))
    }

    fn refunds_due(&mut self, d: Day, day: &str) -> io::Result<()> {
        while self.refunds.front().is_some_and(|r| r.0 <= d) {
            let (_, n, amount) = self.refunds.pop_front().expect("front");
            self.sum.refunds += 1;
            let at = ts(day, self.rng.range(9 * 3600, 22 * 3600));
            self.line(&format!(
                r#"{{"type":"refund","order":"o{n}","amount":{amount},"at":"{at}","refund_id":"r{n}"}}"#
            ))?;
        }
        Ok(())
    }
}
