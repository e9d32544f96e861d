//! A live session of the rehearsal: an anchor's evening stream that sells what its plans
//! have due by the day, with its buyers and as many other viewers in the room, some
//! interactions, and a red packet (its share of the profile's red packets, in proportion
//! to what it sells) that its first viewers, up to 100, empty.

use super::write::{Drawn, Sells, W};
use crate::{ts, SECONDS_PER_DAY};
use dacu_core::time::Day;
use std::collections::HashSet;
use std::io::{self, Write};

/// Shares of a red packet at most.
const PACKET_SHARES: u64 = 100;

struct Viewer {
    user: u64,
    enter: i64,
    leave: i64,
    order: Option<(usize, Drawn)>,
}

impl<O: Write> W<'_, O> {
    pub(super) fn session(
        &mut self,
        a: usize,
        sells: &mut Sells,
        due: &dyn Fn(i64) -> i64,
        d: Day,
        day: &str,
    ) -> io::Result<()> {
        let s = self.sum.sessions;
        let start = 18 * 3600 + self.rng.range(0, 3 * 3600);
        let latest = SECONDS_PER_DAY - 1 - 3600;
        let end = (start + self.rng.range(3600, 4 * 3600)).min(latest);
        let mut viewers = Vec::new();
        let mut present = HashSet::new();
        let mut gmv = 0i64;
        for (m, fen, sold, theta) in sells.iter_mut() {
            let goal = due(*fen);
            while let Some(o) = self.next_order(*m, goal - *sold, theta) {
                *sold += o.paid - o.refund;
                gmv += o.paid;
                let v = self.viewer(&mut present, start, end, Some((*m, o)));
                viewers.push(v);
            }
        }
        if viewers.is_empty() {
            return Ok(());
        }
        self.sum.sessions += 1;
        // As many viewers again who buy nothing.
        for _ in 0..viewers.len() {
            let v = self.viewer(&mut present, start, end, None);
            viewers.push(v);
        }
        self.line(&format!(r#"{{"type":"live_start","session":"s{s}","anchor":"a{a}","at":"{}"}}"#, ts(day, start)))?;
        let shares = (viewers.len() as u64).min(PACKET_SHARES);
        let (budget, live) = self.red_packets;
        let total = (gmv as i128 * budget as i128 / live as i128) as i64;
        let packet =
            (shares > 0 && total >= shares as i64).then(|| self.red_packet(s, a, day, (start, end), total, shares));
        let packet = match packet {
            Some(r) => Some(r?),
            None => None,
        };
        for (i, v) in viewers.into_iter().enumerate() {
            let id = self.vid();
            self.line(&format!(
                r#"{{"type":"viewer_enter","id":"v{id}","session":"s{s}","user":"u{}","at":"{}"}}"#,
                v.user,
                ts(day, v.enter)
            ))?;
            if self.rng.chance(2_000) {
                let kind = ["comment", "like", "like", "share", "follow"][self.rng.below(5) as usize];
                let id = self.vid();
                self.line(&format!(
                    r#"{{"type":"interaction","id":"v{id}","session":"s{s}","user":"u{}","kind":"{kind}","at":"{}"}}"#,
                    v.user,
                    ts(day, v.enter + 20)
                ))?;
            }
            if let Some(p) = packet.filter(|_| (i as u64) < shares) {
                let id = self.id();
                self.line(&format!(
                    r#"{{"type":"grab_red_packet","id":"x{id}","packet":"rp{p}","user":"u{}","at":"{}"}}"#,
                    v.user,
                    ts(day, grab_at(&v, start))
                ))?;
            }
            if let Some((m, o)) = &v.order {
                let n = self.order(d, o);
                self.line(&format!(r#"{{"type":"order_paid","order":"o{n}","user":"u{}","merchant":"m{m}","channel":"live","session":"s{s}","lines":{},"at":"{}"}}"#, v.user, o.lines, ts(day, v.enter + 45)))?;
            }
            let id = self.vid();
            self.line(&format!(
                r#"{{"type":"viewer_leave","id":"v{id}","session":"s{s}","user":"u{}","at":"{}"}}"#,
                v.user,
                ts(day, v.leave)
            ))?;
        }
        self.line(&format!(r#"{{"type":"live_end","session":"s{s}","at":"{}"}}"#, ts(day, end)))
    }

    /// A viewer not yet in the room, entering between the start and two minutes before the
    /// end and staying at least a minute (past a red packet's opening).
    fn viewer(&mut self, present: &mut HashSet<u64>, start: i64, end: i64, order: Option<(usize, Drawn)>) -> Viewer {
        let mut user = self.user();
        while !present.insert(user) {
            user = self.user();
        }
        let enter = start + self.rng.range(0, (end - start - 120).max(1));
        let leave = (enter + 60 + self.rng.range(0, 1800)).max(start + 61).min(end - 1);
        Viewer { user, enter, leave, order }
    }

    /// A red packet of `total` fen in `shares` shares, opening a minute into the stream.
    fn red_packet(
        &mut self,
        s: u64,
        a: usize,
        day: &str,
        (start, end): (i64, i64),
        total: i64,
        shares: u64,
    ) -> io::Result<u64> {
        let p = self.sum.red_packets;
        self.sum.red_packets += 1;
        let secret = format!("{:016x}{:016x}", self.rng.below(u64::MAX), self.rng.below(u64::MAX));
        let id = self.id();
        self.line(&format!(r#"{{"type":"create_red_packet","id":"x{id}","packet":"rp{p}","session":"s{s}","issuer":"anchor:a{a}","total":{total},"count":{shares},"split":"double_mean","secret":"{secret}","opens_at":"{}","expires_at":"{}","at":"{}"}}"#, ts(day, start + 60), ts(day, end), ts(day, start)))?;
        Ok(p)
    }

    fn vid(&mut self) -> u64 {
        self.next_vid += 1;
        self.next_vid
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A viewer grabs ten seconds after entering, but not before the packet opens; and is
/// still in the room then.
fn grab_at(v: &Viewer, start: i64) -> i64 {
    (v.enter + 10).max(start + 60).min(v.leave)
}
