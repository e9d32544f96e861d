//! Deciding the contest inputs — shopping-experience scores, violations and loaded
//! baselines — and settlements. The inputs change nothing in the state itself: the races
//! observe their events (crate::contest). A settlement's events are applied by
//! `Settlements::apply`.

use super::{check_id, check_name, limits, reject, Engine};
use crate::command as cmd;
use crate::error::{Code, Rejection};
use crate::event::{ClosedBoardRec, Event, LedgerLineRec};
use crate::festival::{Metric, Role};

/// ¥10 trillion: far above any festival's GMV, low enough that growth arithmetic cannot
/// overflow.
pub const MAX_BASELINE_FEN: i64 = 1_000_000_000_000_000;

/// The roles a contest input may name.
const ALL: [Role; 3] = [Role::Merchant, Role::Anchor, Role::Provider];

impl Engine {
    pub(super) fn decide_experience_score(
        &self,
        k: &cmd::SetExperienceScore,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        self.in_festival(k.at)?;
        let (role, _) = self.participant(&k.participant, k.role, &ALL, "")?;
        let Some(score_c) = crate::festival::score_hundredths(k.score) else {
            return reject(
                Code::InvalidValue,
                format!("`score` must be 0.00 to 5.00 with at most two decimals, got {}", k.score),
            );
        };
        out.push(Event::ExperienceScoreSet {
            id: k.id.clone(),
            participant: k.participant.clone(),
            role,
            score_c,
            at: k.at,
        });
        Ok(())
    }

    pub(super) fn decide_violation(&self, k: &cmd::RecordViolation, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.in_festival(k.at)?;
        check_id("violation", &k.violation)?;
        check_name("reason", &k.reason)?;
        if k.reason.trim().is_empty() {
            return reject(
                Code::InvalidValue,
                format!("`reason` must say what the violation was: 1 to {} bytes, not blank", limits::NAME_BYTES),
            );
        }
        let (role, _) = self.participant(&k.participant, k.role, &ALL, "")?;
        if self.state.contests.violations.contains_key(&k.violation) {
            return reject(
                Code::DuplicateViolation,
                format!("violation `{}` is already recorded; use a new id", k.violation),
            );
        }
        out.push(Event::ViolationRecorded {
            id: k.id.clone(),
            violation: k.violation.clone(),
            participant: k.participant.clone(),
            role,
            reason: k.reason.clone(),
            at: k.at,
        });
        Ok(())
    }

    /// A settlement, decided whole from the state ([`crate::settle::plan`]) and recorded
    /// in one or more `settled` events, so that replay never recomputes a payout.
    pub(super) fn decide_settle(&self, k: &cmd::Settle, out: &mut Vec<Event>) -> Result<(), Rejection> {
        if let Some(last) = self.state.settlement.runs.last() {
            if k.at < last.at {
                return reject(
                    Code::InvalidValue,
                    format!(
                        "`at` {} is before settlement {} at {}; settle at {} or later",
                        k.at, last.n, last.at, last.at
                    ),
                );
            }
        }
        let n = self.state.settlement.runs.len() as u32 + 1;
        let plan = crate::settle::plan(&self.festival, &self.state, k.at, n);
        self.check_ledger(&plan)?;
        // Nothing closed, awarded or clawed back: nothing to record, so settling again
        // changes nothing.
        if !plan.is_empty() {
            // Every event stays far below the log's record limit: a large settlement is
            // recorded as several `Settled` events with the same id.
            let start = out.len();
            for part in crate::settle::parts::split(plan) {
                let lines: Vec<LedgerLineRec> = part.lines.iter().map(LedgerLineRec::from).collect();
                out.push(Event::Settled {
                    id: k.id.clone(),
                    at: k.at,
                    boards: part.boards.iter().map(ClosedBoardRec::from).collect(),
                    programs: part.programs,
                    lines,
                });
            }
            // Traffic grants become guaranteed contracts (docs/traffic.md, "Contracts").
            let lines: Vec<LedgerLineRec> = out[start..]
                .iter()
                .flat_map(|e| match e {
                    Event::Settled { lines, .. } => lines.clone(),
                    _ => Vec::new(),
                })
                .collect();
            out.extend(self.grant_contracts(n, &lines, k.at));
        }
        Ok(())
    }

    /// The ledger's totals per unit (fen, impressions, bp, grants), festival-wide: what
    /// is granted and what is claimed stay within [`limits::TOTAL`] after the settlement.
    /// Money is also bounded by the budgets; the other units are bounded only here.
    fn check_ledger(&self, plan: &crate::settle::Plan) -> Result<(), Rejection> {
        use crate::settle::{LineKind, Unit};
        let units = [Unit::Fen, Unit::Impressions, Unit::Bp, Unit::Grant];
        let mut granted = [0i128; 4];
        let mut claimed = [0i128; 4];
        let slot = |u: Unit| units.iter().position(|x| *x == u).expect("a unit");
        for g in self.state.settlement.payouts.values().flat_map(|p| &p.grants) {
            granted[slot(Unit::of(g.item))] += g.granted as i128;
            claimed[slot(Unit::of(g.item))] += g.claim as i128;
        }
        for l in &plan.lines {
            let u = slot(Unit::of(l.item));
            granted[u] += l.amount as i128;
            // A clawback only lowers a claim: counting awards alone is an upper bound.
            if l.kind == LineKind::Award {
                claimed[u] += l.claim as i128;
            }
        }
        for (i, u) in units.iter().enumerate() {
            for (what, v) in [("granted", granted[i]), ("claimed", claimed[i])] {
                if v > limits::TOTAL as i128 {
                    return reject(
                        Code::LimitExceeded,
                        format!(
                            "this settlement would take the ledger's {what} total in {} to {v}; a ledger total may reach at most {} (lower the festival file's reward amounts)",
                            u.as_str(),
                            limits::TOTAL
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    pub(super) fn decide_load_baseline(&self, k: &cmd::LoadBaseline, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.in_festival(k.at)?;
        let growth: Vec<&str> =
            self.festival.contests.iter().filter(|c| c.metric == Metric::GmvGrowth).map(|c| c.id.as_str()).collect();
        let Some(d) = self.state.contests.defs.iter().find(|d| d.id == k.contest && d.growth.is_some()) else {
            return reject(
                Code::UnknownContest,
                format!(
                    "no growth contest `{}`; baselines load into contests with metric \"gmv_growth\": {}",
                    k.contest,
                    if growth.is_empty() { "(none declared)".to_string() } else { growth.join(", ") }
                ),
            );
        };
        self.participant(&k.participant, Some(d.role), &[d.role], &format!(" (contest `{}` ranks them)", d.id))?;
        if !(0..=MAX_BASELINE_FEN).contains(&k.baseline_fen) {
            return reject(
                Code::InvalidValue,
                format!("`baseline_fen` must be 0 to {MAX_BASELINE_FEN} fen, got {}", k.baseline_fen),
            );
        }
        out.push(Event::BaselineLoaded {
            id: k.id.clone(),
            contest: k.contest.clone(),
            participant: k.participant.clone(),
            role: d.role,
            baseline_fen: k.baseline_fen,
            at: k.at,
        });
        Ok(())
    }
}
