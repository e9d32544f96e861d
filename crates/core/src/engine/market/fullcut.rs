//! 满减 (spend X, save Y), of one store or across stores — decide and apply.

use super::{amount, dup, window};
use crate::command::{self as cmd, FullcutScopeKind};
use crate::engine::{check_id, idx, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, FullcutDef, FullcutScopeRec, RuleRec};
use crate::limits::market as ml;
use crate::market::quote::Rule;
use crate::market::{Budget, Fullcut};
use crate::money::Fen;
use crate::state::State;

impl Engine {
    pub(in crate::engine) fn decide_create_fullcut(
        &self,
        k: &cmd::CreateFullcut,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("fullcut", &k.fullcut)?;
        self.in_festival(k.at)?;
        if self.state.market.fullcut_ids.get(&k.fullcut).is_some() {
            return Err(dup("满减", &k.fullcut));
        }
        self.check_fullcut_scope(k)?;
        check_rule(k)?;
        window("start", k.start, "end", k.end)?;
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        out.push(Event::FullcutCreated(FullcutDef::from(k)));
        Ok(())
    }

    /// A store 满减 names its store; a cross-store one its merchants (or none: all) and
    /// the platform's share.
    fn check_fullcut_scope(&self, k: &cmd::CreateFullcut) -> Result<(), Rejection> {
        match k.scope {
            FullcutScopeKind::Store => {
                let Some(m) = &k.merchant else {
                    return reject(Code::InvalidValue, "scope \"store\" needs `merchant`");
                };
                self.merchant_idx(m)?;
                if k.merchants.is_some() || k.platform_share_bp != 0 {
                    return reject(
                        Code::InvalidValue,
                        "`merchants` and `platform_share_bp` are only for scope \"cross_store\"",
                    );
                }
            }
            FullcutScopeKind::CrossStore => {
                if k.merchant.is_some() {
                    return reject(
                        Code::InvalidValue,
                        "scope \"cross_store\" takes `merchants` (a list; absent = every merchant), not `merchant`",
                    );
                }
                if let Some(ms) = &k.merchants {
                    if ms.is_empty() || ms.len() > ml::CROSS_MERCHANTS {
                        return reject(
                            Code::InvalidValue,
                            format!("`merchants` must list 1 to {} merchants", ml::CROSS_MERCHANTS),
                        );
                    }
                    for m in ms {
                        self.merchant_idx(m)?;
                    }
                }
                if !(0..=10_000).contains(&k.platform_share_bp) {
                    return reject(
                        Code::InvalidValue,
                        format!("`platform_share_bp` must be 0 to 10000, got {}", k.platform_share_bp),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Rising tiers, or 每满 `every` 减 `off` with an optional cap.
fn check_rule(k: &cmd::CreateFullcut) -> Result<(), Rejection> {
    match (k.tiers.is_empty(), k.every) {
        (false, None) => {
            if k.tiers.len() > ml::TIERS || k.off.is_some() || k.cap.is_some() {
                return reject(
                    Code::InvalidValue,
                    format!("`tiers` takes 1 to {} [threshold, off] pairs and no `off` or `cap`", ml::TIERS),
                );
            }
            let mut prev = (0, 0);
            for &(th, off) in &k.tiers {
                amount("tiers threshold", th, 1)?;
                amount("tiers off", off, 1)?;
                if th <= prev.0 || off <= prev.1 {
                    return reject(
                        Code::InvalidValue,
                        "`tiers` must rise: each [threshold, off] above the one before in both",
                    );
                }
                prev = (th, off);
            }
        }
        (true, Some(step)) => {
            amount("every", step, 1)?;
            let Some(off) = k.off else {
                return reject(Code::InvalidValue, "`every` needs `off`: 每满 every 减 off");
            };
            amount("off", off, 1)?;
            if let Some(c) = k.cap {
                amount("cap", c, 1)?;
            }
        }
        _ => {
            return reject(
                Code::InvalidValue,
                "give exactly one of `tiers` ([[threshold, off], …]) and `every` (with `off` and an optional `cap`)",
            )
        }
    }
    Ok(())
}

/// The scope and rule as recorded (resolved from the command when it was decided).
pub(in crate::engine) fn created(st: &mut State, k: &FullcutDef) -> Applied {
    let (merchant, merchants, platform_share_bp) = match &k.scope {
        FullcutScopeRec::Store { merchant } => (Some(idx(&st.merchant_ids, merchant, "merchant")?), None, 0),
        FullcutScopeRec::CrossStore { merchants, platform_share_bp } => {
            let set = match merchants {
                Some(ms) => {
                    let mut set = std::collections::BTreeSet::new();
                    for m in ms {
                        set.insert(idx(&st.merchant_ids, m, "merchant")?);
                    }
                    Some(set)
                }
                None => None,
            };
            (None, set, *platform_share_bp)
        }
    };
    let rule = match &k.rule {
        RuleRec::Every { step, off, cap } => Rule::Every { step: *step, off: *off, cap: *cap },
        RuleRec::Tiers { tiers } => Rule::Tiers(tiers.clone()),
    };
    let f = st.market.fullcut_ids.intern(&k.fullcut);
    match merchant {
        Some(mi) => st.market.fullcuts_by_merchant.entry(mi).or_default().push(f),
        None => st.market.cross_fullcuts.push(f),
    }
    st.market.fullcuts.push(Fullcut {
        merchant,
        merchants,
        rule,
        platform_share_bp,
        start: k.start,
        end: k.end,
        budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
        used: 0,
    });
    Ok(())
}
