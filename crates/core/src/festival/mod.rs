//! The festival file: its model ([`model`]) and its loader with positioned problems
//! ([`load`]), plus the lookups the engine needs.

pub mod bounds;
pub mod load;
pub mod model;
pub mod traffic;

pub use load::{parse, Problem};
pub use model::*;

use crate::time::{Day, Ts};

/// A shopping-experience score in hundredths (4.3 → 430), if it is 0.00 to 5.00 with at
/// most two decimals: the festival file's gates and `set_experience_score` both take this.
pub fn score_hundredths(score: f64) -> Option<i64> {
    let c = (score * 100.0).round();
    ((0.0..=5.0).contains(&score) && (score * 100.0 - c).abs() <= 1e-6).then_some(c as i64)
}

impl Festival {
    pub fn start(&self) -> Ts {
        self.festival.start.0
    }

    pub fn end(&self) -> Ts {
        self.festival.end.0
    }

    /// Festival days, Asia/Shanghai, first to last (the day holding `end - 1ms`).
    pub fn days(&self) -> Vec<Day> {
        let (first, last) = (self.start().day(), self.end().plus_ms(-1).day());
        (first.0..=last.0).map(Day).collect()
    }

    /// The anchor tier for a follower count: the tier with the highest `min_followers`
    /// not above `followers`. None when the file declares no tiers.
    pub fn anchor_tier_for(&self, followers: i64) -> Option<&AnchorTier> {
        self.anchor_tiers.iter().filter(|t| t.min_followers <= followers).max_by_key(|t| t.min_followers)
    }

    pub fn program(&self, id: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.id == id)
    }

    /// Tier ids ordered from the highest threshold down (head, mid, new).
    pub fn anchor_tier_ids(&self) -> Vec<&str> {
        let mut t: Vec<&AnchorTier> = self.anchor_tiers.iter().collect();
        t.sort_by_key(|t| std::cmp::Reverse(t.min_followers));
        t.into_iter().map(|t| t.id.as_str()).collect()
    }

    /// What a log of this festival's event format 1 records leave to the festival file
    /// (crate::event::v1): the values format 1's `apply` read from it.
    pub fn format1_context(&self) -> crate::event::v1::Context {
        let contests =
            crate::contest::race_defs(self).into_iter().filter(|d| d.kind == crate::contest::RaceKind::Contest);
        crate::event::v1::Context {
            festival_end: self.end(),
            group_time_limit_s: self.checkout.group_time_limit_s,
            anchor_tiers: self.anchor_tiers.iter().map(|t| t.id.clone()).collect(),
            contest_roles: contests.map(|d| (d.id, d.role)).collect(),
            key_capacity: self.capacity.keys,
        }
    }

    /// The enrolment window of a program: its own, or the registration window.
    pub fn enroll_window(&self, p: &Program) -> (Ts, Ts) {
        (p.enroll_opens.unwrap_or(self.registration.opens).0, p.enroll_closes.unwrap_or(self.registration.closes).0)
    }
}
