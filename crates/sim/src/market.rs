//! The marketing tools in the simulated festival: coupons claimed by viewers, store and
//! cross-store 满减, item price cuts, checkouts paid (or cancelled, or left to time out),
//! group deals that form or fail, red packets grabbed in live rooms, and lotteries drawn.
//! Every line is meant to be accepted: stock is ample and per-user limits are tracked.

use super::{ts, Gen, Mix};
use std::collections::HashSet;
use std::io::{self, Write};

/// Merchants with their own store 满减, coupon, price cut and group deal.
const PROMO_MERCHANTS: usize = 40;

#[derive(Default)]
pub(crate) struct MarketGen {
    next_id: u64,
    /// (coupon, user) already claimed: each coupon allows one claim per user here.
    claimed: HashSet<(u32, u64)>,
    /// (deal, user) already in a group of the deal.
    grouped: HashSet<(u32, u64)>,
    next_group: u64,
    next_checkout: u64,
    promo_merchants: usize,
    /// The current session's red packet: (id, count, grabbed, passphrase).
    packet: Option<(u64, u64, u64, bool)>,
    next_packet: u64,
    next_lottery: u64,
    /// The current session created a lottery.
    lottery: bool,
}

impl MarketGen {
    /// Whether the current session needs a tick before it ends (a packet or a lottery).
    pub(crate) fn session_has_timers(&self) -> bool {
        self.packet.is_some() || self.lottery
    }
}

impl<W: Write> Gen<'_, W> {
    fn id(&mut self) -> u64 {
        self.mk.next_id += 1;
        self.mk.next_id
    }

    /// The festival's standing promotions, created at its start.
    pub(crate) fn promotions(&mut self) -> io::Result<()> {
        if self.mix != Mix::Festival {
            return Ok(());
        }
        let (st, en) = (self.f.start(), self.f.end());
        let stock = self.users * 4;
        let id = self.id();
        self.line(&format!(r#"{{"type":"create_fullcut","id":"x{id}","fullcut":"cross300","scope":"cross_store","every":30000,"off":4000,"cap":40000,"platform_share_bp":5000,"start":"{st}","end":"{en}","at":"{st}"}}"#))?;
        let id = self.id();
        self.line(&format!(r#"{{"type":"create_coupon","id":"x{id}","coupon":"plat20","issuer":"platform","scope":"platform","threshold":19900,"off":2000,"stock":{stock},"claim_from":"{st}","claim_until":"{en}","valid_days":3,"at":"{st}"}}"#))?;
        let cat = self.categories[0].clone();
        let id = self.id();
        self.line(&format!(r#"{{"type":"create_coupon","id":"x{id}","coupon":"cat10","issuer":"platform","scope":"category","category":"{cat}","percent_bp":1000,"cap":3000,"stock":{stock},"claim_from":"{st}","claim_until":"{en}","valid_days":5,"budget":{},"at":"{st}"}}"#, stock * 500))?;
        self.mk.promo_merchants = PROMO_MERCHANTS.min(self.merchants.len());
        for m in 0..self.mk.promo_merchants {
            let id = self.id();
            self.line(&format!(r#"{{"type":"create_fullcut","id":"x{id}","fullcut":"sf{m}","scope":"store","merchant":"m{m}","tiers":[[19900,2000],[29900,4000]],"start":"{st}","end":"{en}","at":"{st}"}}"#))?;
            let id = self.id();
            self.line(&format!(r#"{{"type":"create_coupon","id":"x{id}","coupon":"sc{m}","issuer":"merchant:m{m}","scope":"store","merchant":"m{m}","threshold":9900,"off":1000,"stock":{stock},"claim_from":"{st}","claim_until":"{en}","valid_days":2,"return_on_refund":false,"at":"{st}"}}"#))?;
            let price = self.merchants[m].skus[0];
            let id = self.id();
            self.line(&format!(r#"{{"type":"create_price_cut","id":"x{id}","cut":"pc{m}","merchant":"m{m}","sku":"m{m}-k0","off":{},"start":"{st}","end":"{en}","budget":{},"at":"{st}"}}"#, price / 10, price * 1000))?;
            let id = self.id();
            self.line(&format!(r#"{{"type":"create_group_deal","id":"x{id}","deal":"gd{m}","merchant":"m{m}","sku":"m{m}-k1","price":{price},"group_price":{},"size":{},"start":"{st}","end":"{en}","at":"{st}"}}"#, price * 8 / 10, 2 + m % 2))?;
        }
        Ok(())
    }

    /// At a live session's start: sometimes a red packet and a lottery.
    pub(crate) fn session_promotions(
        &mut self,
        s: u64,
        (aid, sells): (usize, usize),
        day: &str,
        (start, end): (i64, i64),
        viewers: u64,
    ) -> io::Result<()> {
        self.mk.packet = None;
        self.mk.lottery = false;
        if self.mix != Mix::Festival || viewers < 10 {
            return Ok(());
        }
        if self.rng.chance(5_000) {
            let p = self.mk.next_packet;
            self.mk.next_packet += 1;
            let count = (viewers / 3).clamp(1, 200);
            let total = count * (100 + self.rng.below(900));
            let split = ["double_mean", "line_cut", "even"][self.rng.below(3) as usize];
            let pass = self.rng.chance(3_000);
            let extra = if pass { r#","passphrase":"116快乐""#.to_string() } else { String::new() };
            let usable =
                if self.rng.chance(3_000) { format!(r#","usable_merchant":"m{sells}""#) } else { String::new() };
            // An explicit secret from the simulator's own stream, so a simulated run stays
            // reproducible (dacu ingest would otherwise draw one from the OS).
            let secret = format!("{:016x}{:016x}", self.rng.below(u64::MAX), self.rng.below(u64::MAX));
            let id = self.id();
            self.line(&format!(r#"{{"type":"create_red_packet","id":"x{id}","packet":"rp{p}","session":"s{s}","issuer":"anchor:a{aid}","total":{total},"count":{count},"split":"{split}","secret":"{secret}"{extra}{usable},"opens_at":"{}","expires_at":"{}","at":"{}"}}"#, ts(day, start + 60), ts(day, end), ts(day, start)))?;
            self.mk.packet = Some((p, count, 0, pass));
            self.sum.red_packets += 1;
        }
        if self.rng.chance(3_000) {
            let l = self.mk.next_lottery;
            self.mk.next_lottery += 1;
            let secret = format!("{:016x}{:016x}", self.rng.below(u64::MAX), self.rng.below(u64::MAX));
            let id = self.id();
            let winners = 1 + self.rng.below(5);
            self.line(&format!(r#"{{"type":"create_lottery","id":"x{id}","lottery":"lot{l}","session":"s{s}","issuer":"anchor:a{aid}","prize":{{"kind":"goods","name":"福袋","value":9900}},"winners":{winners},"draw_at":"{}","secret":"{secret}","at":"{}"}}"#, ts(day, (start + end) / 2), ts(day, start)))?;
            self.sum.lotteries += 1;
            self.mk.lottery = true;
        }
        Ok(())
    }

    /// A viewer who just entered: may claim a coupon and grab the room's red packet.
    pub(crate) fn viewer_promotions(
        &mut self,
        s: u64,
        u: u64,
        m: usize,
        day: &str,
        (start, enter, end): (i64, i64, i64),
    ) -> io::Result<()> {
        if self.mix != Mix::Festival {
            return Ok(());
        }
        if self.rng.chance(1_500) {
            let (key, coupon) = if m < self.mk.promo_merchants && self.rng.chance(5_000) {
                (m as u32 + 2, format!("sc{m}"))
            } else if self.rng.chance(7_000) {
                (0, "plat20".to_string())
            } else {
                (1, "cat10".to_string())
            };
            if self.mk.claimed.insert((key, u)) {
                let id = self.id();
                self.line(&format!(
                    r#"{{"type":"claim_coupon","id":"x{id}","coupon":"{coupon}","user":"u{u}","at":"{}"}}"#,
                    ts(day, enter + 5)
                ))?;
                self.sum.claims += 1;
            }
        }
        if let Some((p, count, grabbed, pass)) = self.mk.packet {
            if grabbed < count && self.rng.chance(6_000) {
                // The packet opens a minute into the stream: grab no earlier, and before it ends.
                let at_s = (enter + 10).max(start + 60).min(end - 1);
                if pass {
                    let v = self.vid();
                    self.line(&format!(r#"{{"type":"interaction","id":"v{v}","session":"s{s}","user":"u{u}","kind":"comment","text":"116快乐","at":"{}"}}"#, ts(day, at_s)))?;
                }
                let id = self.id();
                self.line(&format!(
                    r#"{{"type":"grab_red_packet","id":"x{id}","packet":"rp{p}","user":"u{u}","at":"{}"}}"#,
                    ts(day, at_s)
                ))?;
                self.mk.packet = Some((p, count, grabbed + 1, pass));
                self.sum.grabs += 1;
            }
        }
        Ok(())
    }

    /// A live order placed through checkout: a cart of the merchant's goods (sometimes
    /// with another merchant's), paid a minute later, or cancelled, or left to time out.
    pub(crate) fn checkout(&mut self, s: u64, u: u64, m: usize, other: usize, day: &str, at: i64) -> io::Result<()> {
        let c = self.mk.next_checkout;
        self.mk.next_checkout += 1;
        let mut lines = String::from("[");
        let mut carts = vec![m];
        if other != m && self.rng.chance(3_000) {
            carts.push(other);
        }
        for (i, &mm) in carts.iter().enumerate() {
            let merchant = &self.merchants[mm];
            let k = merchant.sku_pop.sample(&mut self.rng).min(merchant.skus.len() - 1);
            let qty = 1 + self.rng.below(3);
            if i > 0 {
                lines.push(',');
            }
            lines += &format!(r#"{{"merchant":"m{mm}","sku":"m{mm}-k{k}","qty":{qty},"price":{}}}"#, merchant.skus[k]);
        }
        lines.push(']');
        let id = self.id();
        self.line(&format!(r#"{{"type":"checkout","id":"x{id}","checkout":"ck{c}","user":"u{u}","channel":"live","session":"s{s}","lines":{lines},"at":"{}"}}"#, ts(day, at)))?;
        self.sum.checkouts += 1;
        let roll = self.rng.below(100);
        let id = self.id();
        if roll < 90 {
            self.line(&format!(r#"{{"type":"pay","id":"x{id}","checkout":"ck{c}","at":"{}"}}"#, ts(day, at + 60)))?;
            self.sum.orders += carts.len() as u64;
        } else if roll < 95 {
            self.line(&format!(r#"{{"type":"cancel","id":"x{id}","checkout":"ck{c}","at":"{}"}}"#, ts(day, at + 30)))?;
        }
        Ok(())
    }

    /// A day's group buying: groups opened on the promoted merchants' deals; most fill up,
    /// some fail when their 24 hours pass (a later tick).
    pub(crate) fn groups(&mut self, day: &str, n: u64) -> io::Result<()> {
        if self.mix != Mix::Festival || self.mk.promo_merchants == 0 {
            return Ok(());
        }
        for _ in 0..n {
            let d = self.rng.below(self.mk.promo_merchants as u64) as usize;
            let size = 2 + d % 2;
            let g = self.mk.next_group;
            self.mk.next_group += 1;
            let t = self.rng.range(9 * 3600, 20 * 3600);
            let members = if self.rng.chance(8_000) { size } else { size - 1 };
            let mut wrote = 0;
            for i in 0..members {
                let u = self.user();
                if !self.mk.grouped.insert((d as u32, u)) {
                    continue;
                }
                let id = self.id();
                let at = ts(day, t + 600 * i as i64);
                if wrote == 0 {
                    self.line(&format!(r#"{{"type":"open_group","id":"x{id}","group":"G{g}","deal":"gd{d}","user":"u{u}","order":"go{g}-{i}","at":"{at}"}}"#))?;
                    self.sum.groups += 1;
                } else {
                    self.line(&format!(r#"{{"type":"join_group","id":"x{id}","group":"G{g}","user":"u{u}","order":"go{g}-{i}","at":"{at}"}}"#))?;
                }
                wrote += 1;
            }
        }
        Ok(())
    }

    /// Time passes: payment timeouts, failed groups, expired packets, lottery draws.
    pub(crate) fn tick(&mut self, day: &str, secs: i64) -> io::Result<()> {
        if self.mix != Mix::Festival {
            return Ok(());
        }
        let id = self.id();
        self.line(&format!(r#"{{"type":"tick","id":"x{id}","at":"{}"}}"#, ts(day, secs)))
    }
}
