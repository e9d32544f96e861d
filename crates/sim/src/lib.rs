//! dacu-sim: a seeded synthetic festival, written as the command stream `dacu ingest`
//! reads. Same festival, scale and seed → byte-identical output. Memory is bounded by the
//! population (merchants, anchors, SKUs), not by the number of commands, so the large
//! scale streams.
//!
//! The shape (docs/simulator.md has the details):
//! - registrations with realistic tier mixes: ~1% SKA and ~9% KA brands, ~1% head and ~15%
//!   mid-tier anchors; every SKA/KA brand has its own self-broadcast anchor account;
//!   service providers, most certified, serving ~18% of merchants, a few rebinding;
//! - enrolments in the festival's programs, respecting each program's eligibility;
//! - per festival day, live sessions (Zipf-popular anchors) with viewers entering and
//!   leaving, interactions, live orders; shelf orders; refunds a few days later;
//! - activity follows the calendar: quiet preparation, a rising warm-up, a burst peaking
//!   on 11-11 (or the festival's peak day), a tail after;
//! - about one line in 500 is bad, 36 kinds in turn, each meeting a different rejection code.
//!
//! Modules: [`rng`], the seeded generator every draw comes from; `market`, the marketing
//! tools' commands (coupons, 满减, price cuts, checkouts, group deals, red packets,
//! lotteries) of the festival mix.

mod bad;
mod market;
pub mod profile;
pub mod rng;
pub mod traffic;

use dacu_core::festival::{BrandTier, Festival, Role};
use dacu_core::time::{Day, Ts};
use rng::{Rng, Zipf};
use std::collections::VecDeque;
use std::io::{self, Write};

/// How big a festival to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 20,000 commands: seconds.
    Small,
    /// About 1,000,000 commands.
    Medium,
    /// About 50,000,000 commands.
    Large,
    /// About this many commands.
    Commands(u64),
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "small" => Some(Scale::Small),
            "medium" => Some(Scale::Medium),
            "large" => Some(Scale::Large),
            n => n.replace('_', "").parse().ok().filter(|&n: &u64| n >= 1_000).map(Scale::Commands),
        }
    }

    pub fn commands(self) -> u64 {
        match self {
            Scale::Small => 20_000,
            Scale::Medium => 1_000_000,
            Scale::Large => 50_000_000,
            Scale::Commands(n) => n,
        }
    }
}

/// What the activity consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mix {
    /// Live rooms with viewers, interactions and orders; shelf orders; refunds.
    #[default]
    Festival,
    /// Orders and refunds only (live orders still name their session): the order-event
    /// stream of the durable-ingest benchmark.
    Orders,
}

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub commands: u64,
    pub orders: u64,
    pub refunds: u64,
    pub sessions: u64,
    pub bad_lines: u64,
    pub claims: u64,
    pub checkouts: u64,
    pub grabs: u64,
    pub red_packets: u64,
    pub lotteries: u64,
    pub groups: u64,
    /// Shopping-experience scores set, and violations recorded.
    pub scores: u64,
    pub violations: u64,
    /// Settlements, one at the start of each day on which a contest or challenge ended.
    pub settlements: u64,
    /// `impression` batches: one per supply node of the festival's `[traffic]`.
    pub impressions: u64,
}

/// The forecast error of the simulated impression supply by default: each slot's hour
/// arrives at 100 ± this percent of its forecast (uniform, whole percents).
pub const TRAFFIC_ERROR_PCT: u64 = 10;

/// The largest forecast error [`Options::traffic_error_pct`] takes.
pub const MAX_TRAFFIC_ERROR_PCT: u64 = 100;

/// How a festival is simulated, beside its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub seed: u64,
    pub mix: Mix,
    /// The impression supply's forecast error, in percent (at most
    /// [`MAX_TRAFFIC_ERROR_PCT`]; more is taken as that).
    pub traffic_error_pct: u64,
}

impl Options {
    pub fn new(seed: u64, mix: Mix) -> Options {
        Options { seed, mix, traffic_error_pct: TRAFFIC_ERROR_PCT }
    }
}

struct Merchant {
    id: usize,
    tier: BrandTier,
    skus: Vec<i64>,
    sku_pop: Zipf,
}

struct Anchor {
    id: usize,
    followers: i64,
    tier: usize,
    /// Merchants it sells: its own brand, or an assortment.
    sells: Vec<usize>,
}

struct PendingRefund {
    day: Day,
    order: u64,
    amount: i64,
}

/// One line in this many is deliberately bad.
const BAD_EVERY: u64 = 500;
/// Kinds of bad line, emitted in turn: each meets a different rejection code.
const BAD_KINDS: u64 = 36;

/// What some bad lines need from the valid ones: each is a fact that makes the bad line
/// certainly wrong (never accidentally valid).
#[derive(Default)]
struct BadFacts {
    /// A certified provider and when.
    certified: Option<(usize, Ts)>,
    /// A provider that is never certified.
    uncertified: Option<usize>,
    /// The first binding (provider, merchant, at).
    binding: Option<(usize, usize, Ts)>,
    /// The first enrolment line written.
    enrolment: Option<String>,
    /// An enrolment refused for the merchant's brand tier.
    not_eligible: Option<String>,
    /// The first program and a participant id of its first role.
    program: Option<(String, String)>,
}
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// Fast RFC 3339 for Asia/Shanghai: the day's `YYYY-MM-DD` plus seconds into the day.
fn ts(day: &str, secs: i64) -> String {
    let s = secs.clamp(0, SECONDS_PER_DAY - 1);
    format!("{day}T{:02}:{:02}:{:02}+08:00", s / 3600, s / 60 % 60, s % 60)
}

struct Gen<'a, W: Write> {
    f: &'a Festival,
    out: W,
    rng: Rng,
    sum: Summary,
    categories: Vec<String>,
    merchants: Vec<Merchant>,
    merchant_pop: Zipf,
    anchors: Vec<Anchor>,
    anchor_pop: Zipf,
    users: u64,
    next_session: u64,
    next_order: u64,
    /// The last room command id written (`v1`, `v2`, …).
    next_vid: u64,
    refunds: VecDeque<PendingRefund>,
    /// A recent order id and amount, for the bad lines that need one.
    last_order: Option<(u64, i64)>,
    next_bad_at: u64,
    /// The last refund written, which a bad line repeats (a duplicate refund id).
    last_refund: Option<String>,
    bad: BadFacts,
    mix: Mix,
    /// Users who entered the current session (membership only; never iterated).
    in_room: std::collections::HashSet<u64>,
    /// Per anchor, the second of `busy_day` its last session ended (0: none that day):
    /// an anchor is live in one room at a time, so its next session starts after.
    busy_until: Vec<i64>,
    busy_day: String,
    mk: market::MarketGen,
    /// Participants that enrolled somewhere (role, id), in a stable order.
    entrants: std::collections::BTreeSet<(&'static str, String)>,
}

impl<W: Write> Gen<'_, W> {
    fn line(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.sum.commands += 1;
        Ok(())
    }

    fn population(&mut self, n: u64) -> io::Result<()> {
        let f = self.f;
        let merchants = (n / 2_000).clamp(20, 200_000) as usize;
        let anchors = (n / 1_500).clamp(20, 300_000) as usize;
        let providers = (merchants / 40).clamp(5, 5_000);
        self.users = (n / 15).clamp(500, 20_000_000);
        let ncat = self.categories.len();
        // 1% SKA and 9% KA brands (at least 1 and 2); the lowest ids are the biggest brands,
        // which the Zipf popularity over merchant ids makes the best sellers.
        let (ska, ka) = ((merchants / 100).max(1), (merchants * 9 / 100).max(2));
        for i in 0..merchants {
            let tier = if i < ska {
                BrandTier::Ska
            } else if i < ska + ka {
                BrandTier::Ka
            } else {
                BrandTier::None
            };
            let category = self.rng.below(ncat as u64) as usize;
            let nsku = 3 + self.rng.below(20) as usize;
            // List prices log-uniform-ish between ¥9.90 and ¥2,999.
            let skus = (0..nsku)
                .map(|_| [990, 1990, 4990, 9900, 19900, 39900, 89900, 299900][self.rng.below(8) as usize])
                .collect();
            let tier_s = tier.as_str();
            let cat = &self.categories[category];
            self.line(&format!(r#"{{"type":"register_merchant","merchant":"m{i}","name":"Merchant {i}","brand_tier":"{tier_s}","category":"{cat}"}}"#))?;
            self.merchants.push(Merchant { id: i, tier, skus, sku_pop: Zipf::new(nsku) });
        }
        // Anchor tiers from the file, highest threshold first.
        let mut tiers: Vec<(usize, i64)> =
            f.anchor_tiers.iter().enumerate().map(|(i, t)| (i, t.min_followers)).collect();
        tiers.sort_by_key(|&(_, m)| std::cmp::Reverse(m));
        let followers_for = |rng: &mut Rng, band: usize| -> i64 {
            if tiers.is_empty() {
                return rng.range(0, 1_000_000);
            }
            let band = band.min(tiers.len() - 1);
            let lo = tiers[band].1;
            let hi = if band == 0 { (lo.max(1)) * 50 } else { tiers[band - 1].1 };
            rng.range(lo, hi.max(lo + 1))
        };
        // The festival's own index of the tier (its position in the file), as the engine derives it.
        let tier_of = |followers: i64| tiers.iter().find(|&&(_, m)| m <= followers).map(|&(i, _)| i).unwrap_or(0);
        let mut a = 0usize;
        // Self-broadcast accounts of the SKA and KA brands.
        let brands: Vec<(usize, BrandTier)> =
            self.merchants.iter().filter(|m| m.tier != BrandTier::None).map(|m| (m.id, m.tier)).collect();
        for (m, tier) in brands {
            let band = if tier == BrandTier::Ska { 0 } else { 1 };
            let followers = followers_for(&mut self.rng, band);
            self.line(&format!(r#"{{"type":"register_anchor","anchor":"a{a}","name":"Official {m}","followers":{followers},"merchant":"m{m}"}}"#))?;
            self.anchors.push(Anchor { id: a, followers, tier: tier_of(followers), sells: vec![m] });
            a += 1;
        }
        let total_anchors = anchors.max(self.anchors.len() + 10);
        // Of the other anchors, 1% head and 15% mid-tier (at least 1 and 2), the rest new.
        let others = total_anchors - a;
        let (head, mid) = ((others / 100).max(1), (others * 15 / 100).max(2));
        while a < total_anchors {
            let k = total_anchors - a - 1;
            let band = if k < head {
                0
            } else if k < head + mid {
                1
            } else {
                2
            };
            let followers = followers_for(&mut self.rng, band);
            let k = 3 + self.rng.below(12) as usize;
            let sells = (0..k).map(|_| self.merchant_pop.sample(&mut self.rng).min(self.merchants.len() - 1)).collect();
            self.line(&format!(
                r#"{{"type":"register_anchor","anchor":"a{a}","name":"Anchor {a}","followers":{followers}}}"#
            ))?;
            self.anchors.push(Anchor { id: a, followers, tier: tier_of(followers), sells });
            a += 1;
        }
        // Popularity follows followers: sort indexes by followers so rank 0 is the biggest.
        let mut order: Vec<usize> = (0..self.anchors.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(self.anchors[i].followers), i));
        let mut sorted = Vec::with_capacity(self.anchors.len());
        let mut taken: Vec<Option<Anchor>> = std::mem::take(&mut self.anchors).into_iter().map(Some).collect();
        for i in order {
            sorted.push(taken[i].take().expect("each once"));
        }
        self.anchors = sorted;
        self.anchor_pop = Zipf::new(self.anchors.len());

        // Providers: most certified early on; they serve ~18% of merchants, brands first.
        let start = f.start();
        let day0 = start.day();
        let mut certified = Vec::new();
        for p in 0..providers {
            self.line(&format!(r#"{{"type":"register_provider","provider":"p{p}","name":"Provider {p}"}}"#))?;
        }
        for p in 0..providers {
            if self.rng.chance(8_500) {
                let at =
                    Ts::start_of(Day(day0.0 + self.rng.below(10) as i32)).plus_ms(self.rng.range(9, 18) * 3_600_000);
                self.line(&format!(r#"{{"type":"certify_provider","provider":"p{p}","at":"{at}"}}"#))?;
                certified.push((p, at));
            } else {
                self.bad.uncertified.get_or_insert(p);
            }
        }
        self.bad.certified = certified.first().copied();
        if !certified.is_empty() {
            for m in 0..self.merchants.len() {
                let per_10k = match self.merchants[m].tier {
                    BrandTier::Ska => 6_000,
                    BrandTier::Ka => 3_500,
                    BrandTier::None => 1_500,
                };
                if self.rng.chance(per_10k) {
                    let (p, cert) = certified[self.rng.below(certified.len() as u64) as usize];
                    let at = cert.plus_ms(self.rng.range(1, 20 * 24) * 3_600_000);
                    self.line(&format!(
                        r#"{{"type":"bind_provider","provider":"p{p}","merchant":"m{m}","at":"{at}"}}"#
                    ))?;
                    self.bad.binding.get_or_insert((p, m, at));
                    if self.rng.chance(500) {
                        // A later move to another provider: later GMV follows it.
                        let (q, cert_q) = certified[self.rng.below(certified.len() as u64) as usize];
                        let at2 = at.max(cert_q).plus_ms(self.rng.range(10, 40) * 24 * 3_600_000);
                        if q != p && at2 < f.end() {
                            self.line(&format!(
                                r#"{{"type":"bind_provider","provider":"p{q}","merchant":"m{m}","at":"{at2}"}}"#
                            ))?;
                        }
                    }
                }
            }
        }
        self.enrolments(&certified)?;
        if let Some(p) = f.programs.first() {
            let who = match p.roles.first() {
                Some(Role::Anchor) => "a0",
                Some(Role::Provider) => "p0",
                _ => "m0",
            };
            self.bad.program = Some((p.id.clone(), who.to_string()));
        }
        // A brand program the last merchant (a non-brand) may not enter, at its opening.
        let last = self.merchants.len() - 1;
        if let Some(p) =
            f.programs.iter().find(|p| p.brand_tiers.as_ref().is_some_and(|t| !t.contains(&BrandTier::None)))
        {
            let (opens, _) = f.enroll_window(p);
            self.bad.not_eligible = Some(format!(
                r#"{{"type":"enroll","program":"{}","participant":"m{last}","role":"merchant","at":"{opens}"}}"#,
                p.id
            ));
        }
        Ok(())
    }

    fn enrolments(&mut self, certified: &[(usize, Ts)]) -> io::Result<()> {
        let f = self.f;
        for p in &f.programs {
            let (opens, closes) = f.enroll_window(p);
            let span = (closes.0 - opens.0).max(1);
            let at = |rng: &mut Rng| Ts(opens.0 + rng.below(span.min(14 * 86_400_000) as u64) as i64);
            for role in &p.roles {
                match role {
                    Role::Merchant => {
                        for i in 0..self.merchants.len() {
                            let m = &self.merchants[i];
                            let eligible = p.brand_tiers.as_ref().is_none_or(|t| t.contains(&m.tier));
                            let per_10k = if m.tier == BrandTier::None { 1_000 } else { 6_000 };
                            if eligible && self.rng.chance(per_10k) {
                                let t = at(&mut self.rng);
                                self.enrol_line(format!(r#"{{"type":"enroll","program":"{}","participant":"m{i}","role":"merchant","at":"{t}"}}"#, p.id), "merchant", format!("m{i}"), t)?;
                            }
                        }
                    }
                    Role::Anchor => {
                        for i in 0..self.anchors.len() {
                            let a = &self.anchors[i];
                            let tier_id = f.anchor_tiers.get(a.tier).map(|t| t.id.as_str()).unwrap_or("");
                            let eligible = p.anchor_tiers.as_ref().is_none_or(|t| t.iter().any(|x| x == tier_id));
                            if eligible && self.rng.chance(3_000) {
                                let t = at(&mut self.rng);
                                let id = a.id;
                                self.enrol_line(format!(r#"{{"type":"enroll","program":"{}","participant":"a{id}","role":"anchor","at":"{t}"}}"#, p.id), "anchor", format!("a{id}"), t)?;
                            }
                        }
                    }
                    Role::Provider => {
                        for &(pid, cert) in certified {
                            if self.rng.chance(7_000) {
                                let t = at(&mut self.rng).max(cert);
                                if t < closes {
                                    self.enrol_line(format!(r#"{{"type":"enroll","program":"{}","participant":"p{pid}","role":"provider","at":"{t}"}}"#, p.id), "provider", format!("p{pid}"), t)?;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// An enrolment, and the participant's shopping-experience score the first time it
    /// enrols: mostly above the usual 4.30 gate, one in ten below it.
    fn enrol_line(&mut self, line: String, role: &'static str, id: String, at: Ts) -> io::Result<()> {
        self.line(&line)?;
        self.bad.enrolment.get_or_insert(line);
        if self.entrants.insert((role, id.clone())) {
            let c = if self.rng.chance(9_000) { 430 + self.rng.below(71) } else { 380 + self.rng.below(50) };
            let n = self.entrants.len();
            self.line(&format!(
                r#"{{"type":"set_experience_score","id":"score-{n}","participant":"{id}","role":"{role}","score":{}.{:02},"at":"{at}"}}"#,
                c / 100,
                c % 100
            ))?;
            self.sum.scores += 1;
        }
        Ok(())
    }

    /// Now and then, a violation by one of the entrants (the contests' `no_violations` gate).
    fn violations(&mut self, day: &str) -> io::Result<()> {
        if self.entrants.is_empty() || !self.rng.chance(3_000) {
            return Ok(());
        }
        let i = self.rng.below(self.entrants.len() as u64) as usize;
        let (role, id) = self.entrants.iter().nth(i).cloned().expect("an entrant");
        let n = self.sum.violations;
        let reason = ["false advertising", "late shipment", "fake orders"][(n % 3) as usize];
        let at = ts(day, 15 * 3600);
        self.line(&format!(
            r#"{{"type":"record_violation","id":"violation-{n}","violation":"v{n}","participant":"{id}","role":"{role}","reason":"{reason}","at":"{at}"}}"#
        ))?;
        self.sum.violations += 1;
        Ok(())
    }

    fn order_lines(&mut self, m: usize) -> (String, i64) {
        let n = 1 + (self.rng.below(10) / 7) as usize; // mostly one line, sometimes two
        let mut lines = String::from("[");
        let mut total = 0;
        let mut used = [usize::MAX; 2];
        for i in 0..n {
            let merchant = &self.merchants[m];
            let k = merchant.sku_pop.sample(&mut self.rng).min(merchant.skus.len() - 1);
            if used.contains(&k) {
                continue;
            }
            used[i] = k;
            let price = merchant.skus[k];
            let qty = 1 + (self.rng.below(10) / 8) as i64;
            let list = price * qty;
            // Paid: list less 0–20% (coupons and cuts arrive with the marketing tools).
            let paid = list - list * self.rng.below(21) as i64 / 100;
            total += paid;
            if lines.len() > 1 {
                lines.push(',');
            }
            lines += &format!(r#"{{"sku":"m{m}-k{k}","qty":{qty},"price":{price},"paid":{paid}}}"#);
        }
        lines.push(']');
        (lines, total)
    }

    fn schedule_refund(&mut self, day: Day, order: u64, paid: i64) {
        let roll = self.rng.below(10_000);
        let amount = if roll < 600 {
            paid
        } else if roll < 900 {
            paid / 3
        } else {
            return;
        };
        if amount > 0 {
            let later = Day(day.0 + 1 + self.rng.below(5) as i32);
            // Keep the queue ordered by day: insert from the back.
            let pos = self.refunds.iter().rposition(|r| r.day <= later).map(|i| i + 1).unwrap_or(0);
            self.refunds.insert(pos, PendingRefund { day: later, order, amount });
        }
    }

    /// The next id of a room command (`viewer_enter`, `viewer_leave`, `interaction`): these
    /// are not idempotent by themselves, so only an id makes re-ingesting the stream after
    /// a crash apply each exactly once. Short, because they are most of the lines.
    fn vid(&mut self) -> u64 {
        self.next_vid += 1;
        self.next_vid
    }

    fn user(&mut self) -> u64 {
        self.rng.below(self.users)
    }

    /// An anchor free to go live at an evening time of `day`, and that time: a popular
    /// anchor drawn again that day starts after its last session (plus a break); one with
    /// no hour left before midnight is passed over. None when no anchor has.
    fn free_anchor(&mut self, day: &str) -> Option<(usize, i64)> {
        if self.busy_day != day {
            self.busy_day = day.to_string();
            self.busy_until.clear();
            self.busy_until.resize(self.anchors.len(), 0);
        }
        // Streams end before midnight so that the whole session is on one festival day.
        let latest = SECONDS_PER_DAY - 1 - 3600;
        let wanted = 18 * 3600 + self.rng.range(0, 3 * 3600);
        let fits =
            |busy: i64| if busy == 0 { Some(wanted) } else { Some(wanted.max(busy + 600)).filter(|s| *s <= latest) };
        for _ in 0..8 {
            let a = self.anchor_pop.sample(&mut self.rng).min(self.anchors.len() - 1);
            if let Some(start) = fits(self.busy_until[a]) {
                return Some((a, start));
            }
        }
        (0..self.anchors.len()).find_map(|a| fits(self.busy_until[a]).map(|s| (a, s)))
    }

    /// A live session on `day`; false when every anchor has streamed all evening.
    fn session(&mut self, day: &str, budget: u64) -> io::Result<bool> {
        let Some((a, start)) = self.free_anchor(day) else { return Ok(false) };
        let s = self.next_session;
        self.next_session += 1;
        self.sum.sessions += 1;
        let duration = self.rng.range(3600, (4 * 3600).min(SECONDS_PER_DAY - 1 - start));
        let end = start + duration;
        self.busy_until[a] = end;
        let aid = self.anchors[a].id;
        self.line(&format!(r#"{{"type":"live_start","session":"s{s}","anchor":"a{aid}","at":"{}"}}"#, ts(day, start)))?;
        // Bigger anchors draw bigger rooms; the budget caps the room.
        let rank_boost = 1 + (self.anchors.len() / (a + 1)).min(200) as u64;
        let viewers = (5 + self.rng.below(4 * rank_boost)).min(budget / 2 + 1);
        let own = self.anchors[a].sells[0];
        self.session_promotions(s, (aid, own), day, (start, end), viewers)?;
        self.in_room.clear();
        for _ in 0..viewers {
            let u = self.user();
            // A user is in a room once at a time; a repeat draw is simply skipped.
            if !self.in_room.insert(u) {
                continue;
            }
            let enter = start + self.rng.range(0, duration - 60);
            let orders_only = self.mix == Mix::Orders;
            if !orders_only {
                let id = self.vid();
                self.line(&format!(
                    r#"{{"type":"viewer_enter","id":"v{id}","session":"s{s}","user":"u{u}","at":"{}"}}"#,
                    ts(day, enter)
                ))?;
            }
            if !orders_only && self.rng.chance(3_000) {
                let kind = ["comment", "like", "like", "share", "follow"][self.rng.below(5) as usize];
                let id = self.vid();
                self.line(&format!(
                    r#"{{"type":"interaction","id":"v{id}","session":"s{s}","user":"u{u}","kind":"{kind}","at":"{}"}}"#,
                    ts(day, enter + 30)
                ))?;
            }
            let sells = &self.anchors[a].sells;
            let m = sells[self.rng.below(sells.len() as u64) as usize];
            self.viewer_promotions(s, u, m, day, (start, enter, end))?;
            if !orders_only && self.rng.chance(250) {
                let other = self.merchant_pop.sample(&mut self.rng).min(self.merchants.len() - 1);
                self.checkout(s, u, m, other, day, enter + 45)?;
            } else if orders_only || self.rng.chance(900) {
                let (lines, paid) = self.order_lines(m);
                let o = self.next_order;
                self.next_order += 1;
                self.sum.orders += 1;
                self.line(&format!(r#"{{"type":"order_paid","order":"o{o}","user":"u{u}","merchant":"m{m}","channel":"live","session":"s{s}","lines":{lines},"at":"{}"}}"#, ts(day, enter + 45)))?;
                self.last_order = Some((o, paid));
                let d = Day::parse(day).expect("day");
                self.schedule_refund(d, o, paid);
            }
            // Most viewers leave before the end; the rest leave when the stream ends.
            if !orders_only && self.rng.chance(9_000) {
                let leave = (enter + 60 + self.rng.range(0, 1800)).min(end - 1);
                let id = self.vid();
                self.line(&format!(
                    r#"{{"type":"viewer_leave","id":"v{id}","session":"s{s}","user":"u{u}","at":"{}"}}"#,
                    ts(day, leave)
                ))?;
            }
            self.maybe_bad(day)?;
        }
        // Draw the room's lottery and expire its red packet.
        if self.mk.session_has_timers() {
            self.tick(day, end - 1)?;
        }
        self.line(&format!(r#"{{"type":"live_end","session":"s{s}","at":"{}"}}"#, ts(day, end)))?;
        Ok(true)
    }

    fn shelf_order(&mut self, day: &str) -> io::Result<()> {
        let m = self.merchant_pop.sample(&mut self.rng).min(self.merchants.len() - 1);
        let (lines, paid) = self.order_lines(m);
        let o = self.next_order;
        self.next_order += 1;
        self.sum.orders += 1;
        let u = self.user();
        let at = ts(day, self.rng.range(8 * 3600, 23 * 3600));
        self.line(&format!(r#"{{"type":"order_paid","order":"o{o}","user":"u{u}","merchant":"m{m}","channel":"shelf","lines":{lines},"at":"{at}"}}"#))?;
        self.last_order = Some((o, paid));
        self.schedule_refund(Day::parse(day).expect("day"), o, paid);
        self.maybe_bad(day)
    }

    fn refunds_due(&mut self, d: Day, day: &str) -> io::Result<()> {
        while self.refunds.front().is_some_and(|r| r.day <= d) {
            let r = self.refunds.pop_front().expect("front");
            self.sum.refunds += 1;
            let at = ts(day, self.rng.range(9 * 3600, 22 * 3600));
            let line = format!(
                r#"{{"type":"refund","order":"o{}","amount":{},"at":"{at}","refund_id":"r{}"}}"#,
                r.order, r.amount, r.order
            );
            self.line(&line)?;
            self.last_refund = Some(line);
        }
        Ok(())
    }
}

/// The day activity peaks: 11-11 when the festival holds it, else the day 80% of the way
/// through the festival.
pub fn peak_day(f: &Festival) -> Day {
    let days = f.days();
    if let Some(d) = days.iter().find(|d| d.to_string().ends_with("-11-11")) {
        return *d;
    }
    days[days.len() * 8 / 10]
}

/// Relative activity of each festival day, in thousandths: 200 at the start rising to 1000
/// a week before the peak, 2500 in the last three days before it, 5000 on the peak day,
/// then 300 after it.
pub fn day_weights(f: &Festival) -> Vec<(Day, u64)> {
    let days = f.days();
    let peak = peak_day(f);
    let first = days[0];
    days.iter()
        .map(|&d| {
            let w = if d == peak {
                5_000
            } else if d > peak {
                300
            } else if peak.0 - d.0 <= 3 {
                2_500
            } else {
                let span = (peak.0 - 7 - first.0).max(1) as u64;
                let pos = (d.0 - first.0).max(0) as u64;
                200 + 800 * pos.min(span) / span
            };
            (d, w)
        })
        .collect()
}

/// Writes a simulated festival to `out`.
pub fn simulate(f: &Festival, scale: Scale, seed: u64, out: impl Write) -> io::Result<Summary> {
    simulate_with_progress(f, scale, seed, Mix::Festival, out, |_, _| {})
}

/// As [`simulate`], calling `progress(commands_written, target)` after each day.
pub fn simulate_with_progress(
    f: &Festival,
    scale: Scale,
    seed: u64,
    mix: Mix,
    out: impl Write,
    progress: impl FnMut(u64, u64),
) -> io::Result<Summary> {
    simulate_with_options(f, scale, Options::new(seed, mix), out, progress)
}

/// As [`simulate_with_progress`], with every option.
pub fn simulate_with_options(
    f: &Festival,
    scale: Scale,
    opts: Options,
    out: impl Write,
    mut progress: impl FnMut(u64, u64),
) -> io::Result<Summary> {
    let (seed, mix) = (opts.seed, opts.mix);
    let target = scale.commands();
    let mut categories: Vec<String> =
        f.heat.as_ref().map(|h| h.category_coefficients_bp.keys().cloned().collect()).unwrap_or_default();
    if categories.is_empty() {
        categories = ["beauty", "apparel", "food", "home", "digital"].iter().map(|s| s.to_string()).collect();
    }
    let mut g = Gen {
        f,
        out: io::BufWriter::with_capacity(1 << 20, out),
        rng: Rng::new(seed),
        sum: Summary::default(),
        categories,
        merchants: Vec::new(),
        merchant_pop: Zipf::new(1),
        anchors: Vec::new(),
        anchor_pop: Zipf::new(1),
        users: 1,
        next_session: 0,
        next_order: 0,
        next_vid: 0,
        refunds: VecDeque::new(),
        last_order: None,
        next_bad_at: BAD_EVERY,
        last_refund: None,
        bad: BadFacts::default(),
        mix,
        in_room: Default::default(),
        busy_until: Vec::new(),
        busy_day: String::new(),
        mk: Default::default(),
        entrants: Default::default(),
    };
    let merchants = (target / 2_000).clamp(20, 200_000) as usize;
    g.merchant_pop = Zipf::new(merchants);
    g.population(target)?;
    g.promotions()?;
    let weights = day_weights(f);
    let total_w: u64 = weights.iter().map(|(_, w)| w).sum();
    // The platform settles as races end; refunds that come later are clawed back at the
    // next settlement.
    let race_ends: std::collections::BTreeSet<Ts> = dacu_core::contest::race_defs(f).iter().map(|d| d.end).collect();
    let activity = target.saturating_sub(g.sum.commands);
    let mut supply = if mix == Mix::Festival {
        traffic::Supply::new(f, seed, opts.traffic_error_pct.min(MAX_TRAFFIC_ERROR_PCT))
    } else {
        None
    };
    for (d, w) in weights {
        let day = d.to_string();
        let budget = activity * w / total_w;
        let mut goal = g.sum.commands + budget;
        if mix == Mix::Festival && race_ends.contains(&Ts::start_of(d)) {
            g.sum.settlements += 1;
            let n = g.sum.settlements;
            g.line(&format!(r#"{{"type":"settle","id":"sim-settle-{n}","at":"{}"}}"#, ts(&day, 0)))?;
        }
        // The day's impression opportunities, after its settlement so that its grants are
        // served, and outside the day's command budget.
        if let Some(s) = &mut supply {
            let n = s.day(d, &mut g.out)?;
            g.sum.commands += n;
            g.sum.impressions += n;
            goal += n;
        }
        g.refunds_due(d, &day)?;
        // Shelf orders take a fortieth of the day's lines (about a third of the orders);
        // in the orders mix, a third of the lines.
        let shelf_goal = g.sum.commands + if mix == Mix::Orders { budget / 3 } else { budget / 40 };
        while g.sum.commands < shelf_goal {
            g.shelf_order(&day)?;
        }
        g.groups(&day, budget / 2_000)?;
        while g.sum.commands < goal {
            let left = goal - g.sum.commands;
            if !g.session(&day, left)? {
                break;
            }
        }
        if mix == Mix::Festival {
            g.violations(&day)?;
        }
        g.tick(&day, SECONDS_PER_DAY - 1)?;
        progress(g.sum.commands, target);
    }
    g.out.flush()?;
    Ok(g.sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fest() -> Festival {
        dacu_core::festival::parse(include_str!("../../../festivals/kuaishou-116-2021.toml")).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
        let f = fest();
        let run = |seed| {
            let mut v = Vec::new();
            simulate(&f, Scale::Commands(5_000), seed, &mut v).unwrap();
            v
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn the_scale_sets_the_size() {
        let f = fest();
        let mut v = Vec::new();
        let s = simulate(&f, Scale::Small, 7, &mut v).unwrap();
        let lines = v.iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(lines, s.commands);
        // The festival's impression batches come on top of the scale's commands.
        assert!((19_000..=22_000).contains(&(s.commands - s.impressions)), "{s:?}");
        assert_eq!(s.impressions, 81 * 24 * 4 * 3, "every node of the 116 file's supply grid: {s:?}");
        assert!(s.orders > 100 && s.refunds > 5 && s.sessions > 20 && s.bad_lines >= 36, "{s:?}");
    }

    #[test]
    fn the_orders_mix_is_orders_and_refunds() {
        let f = fest();
        let mut v = Vec::new();
        let s = simulate_with_progress(&f, Scale::Commands(30_000), 3, Mix::Orders, &mut v, |_, _| {}).unwrap();
        let text = String::from_utf8(v).unwrap();
        // The only viewer lines are the deliberately bad ones: an unknown session, or s0
        // before it started (at the festival's first instant).
        let start = f.start().to_string();
        assert!(text
            .lines()
            .filter(|l| l.contains("viewer_enter"))
            .all(|l| l.contains("s_missing") || l.contains(&start)));
        assert!(!text.contains("\"interaction\"") && !text.contains("viewer_leave"));
        assert!(s.orders > 20_000, "{s:?}");
    }

    #[test]
    fn the_calendar_peaks_on_11_11() {
        let f = fest();
        assert_eq!(peak_day(&f).to_string(), "2021-11-11");
        let w = day_weights(&f);
        let max = w.iter().max_by_key(|(_, w)| *w).unwrap();
        assert_eq!(max.0.to_string(), "2021-11-11");
        assert!(w[0].1 < w[50].1, "activity rises through the warm-up");
    }
}
