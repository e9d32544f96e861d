//! Participants: registering merchants, anchors and providers, certifying providers,
//! binding them to merchants, and enrolling participants in programs — decide and apply.
//! docs/commands.md documents every rule and code here.

use super::{check_id, check_name, idx, limits, opt_idx, reject, Applied, Engine};
use crate::command as cmd;
use crate::error::{Code, Rejection};
use crate::event::{AnchorTierRec, Event};
use crate::festival::{BrandTier, Program, Role};
use crate::state::{Anchor, Merchant, Provider, State, Stats};
use crate::time::Ts;

impl Engine {
    pub(super) fn decide_register_merchant(
        &self,
        m: &cmd::RegisterMerchant,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("merchant", &m.merchant)?;
        check_name("name", &m.name)?;
        check_name("category", &m.category)?;
        if self.state.merchant_ids.get(&m.merchant).is_some() {
            return reject(
                Code::DuplicateMerchant,
                format!("merchant `{}` is already registered; use a new id", m.merchant),
            );
        }
        out.push(Event::MerchantRegistered {
            merchant: m.merchant.clone(),
            name: m.name.clone(),
            brand_tier: m.brand_tier,
            category: m.category.clone(),
        });
        Ok(())
    }

    /// The anchor's tier is derived here, once, from the festival's thresholds, and
    /// recorded with its index in the festival's tiers.
    pub(super) fn decide_register_anchor(
        &self,
        a: &cmd::RegisterAnchor,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("anchor", &a.anchor)?;
        check_name("name", &a.name)?;
        if !(0..=limits::FOLLOWERS).contains(&a.followers) {
            return reject(
                Code::InvalidValue,
                format!("`followers` must be 0 to {}, got {}", limits::FOLLOWERS, a.followers),
            );
        }
        if self.state.anchor_ids.get(&a.anchor).is_some() {
            return reject(Code::DuplicateAnchor, format!("anchor `{}` is already registered; use a new id", a.anchor));
        }
        if let Some(m) = &a.merchant {
            self.merchant_idx(m)?;
        }
        let tier = self.festival.anchor_tier_for(a.followers).map(|t| {
            let index = self.festival.anchor_tiers.iter().position(|x| std::ptr::eq(x, t)).expect("one of the tiers");
            AnchorTierRec { id: t.id.clone(), index: index as u32 }
        });
        out.push(Event::AnchorRegistered {
            anchor: a.anchor.clone(),
            name: a.name.clone(),
            followers: a.followers,
            merchant: a.merchant.clone(),
            tier,
        });
        Ok(())
    }

    pub(super) fn decide_register_provider(
        &self,
        p: &cmd::RegisterProvider,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("provider", &p.provider)?;
        check_name("name", &p.name)?;
        if self.state.provider_ids.get(&p.provider).is_some() {
            return reject(
                Code::DuplicateProvider,
                format!("provider `{}` is already registered; use a new id", p.provider),
            );
        }
        out.push(Event::ProviderRegistered { provider: p.provider.clone(), name: p.name.clone() });
        Ok(())
    }

    pub(super) fn decide_certify(&self, p: &cmd::CertifyProvider, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let i = self.provider_idx(&p.provider)?;
        if let Some(at) = self.state.providers[i as usize].certified_at {
            return reject(Code::AlreadyCertified, format!("provider `{}` was certified at {at}", p.provider));
        }
        out.push(Event::ProviderCertified { provider: p.provider.clone(), at: p.at });
        Ok(())
    }

    pub(super) fn decide_bind(&self, b: &cmd::BindProvider, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let pi = self.provider_idx(&b.provider)?;
        let mi = self.merchant_idx(&b.merchant)?;
        if st.providers[pi as usize].certified_at.is_none_or(|c| c > b.at) {
            return reject(
                Code::ProviderNotCertified,
                format!(
                    "provider `{}` is not certified at {}; certify it with certify_provider first",
                    b.provider, b.at
                ),
            );
        }
        if st.merchants[mi as usize].provider_at(b.at) == Some(pi) {
            return reject(
                Code::AlreadyBound,
                format!("merchant `{}` is already served by provider `{}` at {}", b.merchant, b.provider, b.at),
            );
        }
        out.push(Event::ProviderBound { provider: b.provider.clone(), merchant: b.merchant.clone(), at: b.at });
        Ok(())
    }

    pub(super) fn decide_unbind(&self, b: &cmd::UnbindProvider, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let pi = self.provider_idx(&b.provider)?;
        let mi = self.merchant_idx(&b.merchant)?;
        if self.state.merchants[mi as usize].provider_at(b.at) != Some(pi) {
            return reject(
                Code::NotBound,
                format!("merchant `{}` is not served by provider `{}` at {}", b.merchant, b.provider, b.at),
            );
        }
        out.push(Event::ProviderUnbound { provider: b.provider.clone(), merchant: b.merchant.clone(), at: b.at });
        Ok(())
    }

    pub(super) fn decide_enroll(&self, e: &cmd::Enroll, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let f = &self.festival;
        let Some(p) = f.program(&e.program) else {
            let ids: Vec<&str> = f.programs.iter().map(|p| p.id.as_str()).collect();
            return reject(
                Code::UnknownProgram,
                format!("no program `{}` in the festival file; programs: {}", e.program, ids.join(", ")),
            );
        };
        let roles: Vec<Role> =
            [Role::Merchant, Role::Anchor, Role::Provider].into_iter().filter(|r| p.roles.contains(r)).collect();
        let admitted: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
        let (role, idx) = self.participant(
            &e.participant,
            e.role,
            &roles,
            &format!(" (program `{}` admits: {})", p.id, admitted.join(", ")),
        )?;
        let (opens, closes) = f.enroll_window(p);
        if e.at < opens {
            return reject(
                Code::RegistrationNotOpen,
                format!("enrolment in `{}` opens at {opens}; `at` is {}", p.id, e.at),
            );
        }
        if e.at >= closes {
            return reject(
                Code::RegistrationClosed,
                format!("enrolment in `{}` closed at {closes}; `at` is {}", p.id, e.at),
            );
        }
        if let Some(t) = self.state.registration_closed.get(&p.id) {
            return reject(
                Code::RegistrationClosed,
                format!("enrolment in `{}` was closed by an operator at {t}; `at` is {}", p.id, e.at),
            );
        }
        if !p.roles.contains(&role) {
            return reject(Code::NotEligible, format!("program `{}` does not admit {}s", p.id, role.as_str()));
        }
        self.check_restriction(p, e, role, idx)?;
        if self.state.enrolments.get(&p.id).is_some_and(|m| m.contains_key(&(role, idx))) {
            return reject(
                Code::AlreadyEnrolled,
                format!("{} `{}` is already enrolled in `{}`", role.as_str(), e.participant, p.id),
            );
        }
        out.push(Event::Enrolled { program: p.id.clone(), participant: e.participant.clone(), role, at: e.at });
        out.extend(self.enrolment_contracts(&p.id, &e.participant, role, e.at));
        Ok(())
    }

    /// The program's restriction for the role: brand tiers, anchor tiers, certification.
    fn check_restriction(&self, p: &Program, e: &cmd::Enroll, role: Role, idx: u32) -> Result<(), Rejection> {
        let (st, f) = (&self.state, &self.festival);
        match role {
            Role::Merchant => {
                let t = st.merchants[idx as usize].brand_tier;
                if let Some(tiers) = &p.brand_tiers {
                    if !tiers.contains(&t) {
                        return reject(
                            Code::NotEligible,
                            format!(
                                "program `{}` admits brand tiers {}; merchant `{}` is `{}`",
                                p.id,
                                tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
                                e.participant,
                                t.as_str()
                            ),
                        );
                    }
                }
            }
            Role::Anchor => {
                if let Some(tiers) = &p.anchor_tiers {
                    let tier =
                        st.anchors[idx as usize].tier.map(|t| f.anchor_tiers[t as usize].id.as_str()).unwrap_or("");
                    if !tiers.iter().any(|t| t == tier) {
                        return reject(
                            Code::NotEligible,
                            format!(
                                "program `{}` admits anchor tiers {}; anchor `{}` is `{tier}`",
                                p.id,
                                tiers.join(", "),
                                e.participant
                            ),
                        );
                    }
                }
            }
            Role::Provider => {
                if p.require_certified && st.providers[idx as usize].certified_at.is_none_or(|c| c > e.at) {
                    return reject(
                        Code::ProviderNotCertified,
                        format!(
                            "program `{}` admits certified providers only; certify `{}` first",
                            p.id, e.participant
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// Resolves a participant id: in `role` if given, else in whichever of `roles` has it.
    pub(super) fn participant(
        &self,
        participant: &str,
        role: Option<Role>,
        roles: &[Role],
        admits: &str,
    ) -> Result<(Role, u32), Rejection> {
        let st = &self.state;
        let lookup = |r: Role| match r {
            Role::Merchant => st.merchant_ids.get(participant),
            Role::Anchor => st.anchor_ids.get(participant),
            Role::Provider => st.provider_ids.get(participant),
        };
        let roles: Vec<Role> = match role {
            Some(r) => vec![r],
            None => roles.to_vec(),
        };
        let found: Vec<(Role, u32)> = roles.iter().filter_map(|&r| lookup(r).map(|i| (r, i))).collect();
        match found.as_slice() {
            [] => reject(
                Code::UnknownParticipant,
                format!(
                    "no {} `{participant}` is registered{admits}",
                    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or "),
                ),
            ),
            [one] => Ok(*one),
            _ => reject(
                Code::AmbiguousParticipant,
                format!(
                    "`{participant}` is registered as {}; add \"role\" to say which",
                    found.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(" and ")
                ),
            ),
        }
    }
}

pub(super) fn merchant_registered(
    st: &mut State,
    merchant: &str,
    name: &str,
    brand_tier: BrandTier,
    category: &str,
) -> Applied {
    st.merchant_ids.intern(merchant);
    st.merchants.push(Merchant {
        name: name.to_string(),
        brand_tier,
        category: category.to_string(),
        bindings: Vec::new(),
        stats: Stats::default(),
    });
    Ok(())
}

/// The tier is the one recorded, by its index in the festival's tiers (the state keeps
/// one total per tier: an index past them is a log of another festival).
pub(super) fn anchor_registered(
    st: &mut State,
    anchor: &str,
    name: &str,
    followers: i64,
    merchant: Option<&str>,
    tier: Option<&AnchorTierRec>,
) -> Applied {
    let merchant = opt_idx(&st.merchant_ids, merchant, "merchant")?;
    if let Some(t) = tier.filter(|t| t.index as usize >= st.by_anchor_tier.len()) {
        return Err(format!("unknown anchor tier `{}` (index {})", t.id, t.index));
    }
    let tier = tier.map(|t| t.index);
    st.anchor_ids.intern(anchor);
    st.anchors.push(Anchor {
        name: name.to_string(),
        followers,
        merchant,
        tier,
        live_session: None,
        stats: Stats::default(),
    });
    Ok(())
}

pub(super) fn provider_registered(st: &mut State, provider: &str, name: &str) -> Applied {
    st.provider_ids.intern(provider);
    st.providers.push(Provider { name: name.to_string(), certified_at: None, stats: Stats::default() });
    Ok(())
}

pub(super) fn provider_certified(st: &mut State, provider: &str, at: Ts) -> Applied {
    let p = idx(&st.provider_ids, provider, "provider")?;
    st.providers[p as usize].certified_at = Some(at);
    Ok(())
}

/// A binding (`bound`) or its end, entered into the merchant's binding history.
pub(super) fn binding(st: &mut State, provider: &str, merchant: &str, at: Ts, bound: bool) -> Applied {
    let p = idx(&st.provider_ids, provider, "provider")?;
    let m = idx(&st.merchant_ids, merchant, "merchant")?;
    let to = bound.then_some(p);
    let b = &mut st.merchants[m as usize].bindings;
    // Insert after every binding at or before `at`, so equal times keep log order.
    let pos = b.partition_point(|(t, _)| *t <= at);
    b.insert(pos, (at, to));
    Ok(())
}

pub(super) fn enrolled(st: &mut State, program: &str, participant: &str, role: Role, at: Ts) -> Applied {
    let i = match role {
        Role::Merchant => idx(&st.merchant_ids, participant, "merchant")?,
        Role::Anchor => idx(&st.anchor_ids, participant, "anchor")?,
        Role::Provider => idx(&st.provider_ids, participant, "provider")?,
    };
    st.enrolments.entry(program.to_string()).or_default().insert((role, i), at);
    Ok(())
}

impl Engine {
    /// An operator closes enrolment early, or opens it again, in one program or (without
    /// `program`) in every program; only inside the window the festival file gives each,
    /// and only where it changes something.
    pub(super) fn decide_set_registration(
        &self,
        k: &cmd::SetRegistration,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let f = &self.festival;
        check_id("id", &k.id)?;
        self.in_festival(k.at)?;
        let programs: Vec<&Program> = match &k.program {
            Some(id) => vec![f.program(id).ok_or_else(|| {
                let ids: Vec<&str> = f.programs.iter().map(|p| p.id.as_str()).collect();
                Rejection::new(
                    Code::UnknownProgram,
                    format!("no program `{id}` in the festival file; programs: {}", ids.join(", ")),
                )
            })?],
            None => f.programs.iter().collect(),
        };
        let start = out.len();
        for p in programs {
            let (opens, closes) = f.enroll_window(p);
            let closed = self.state.registration_closed.contains_key(&p.id);
            if k.at < opens || k.at >= closes {
                if k.program.is_none() {
                    continue;
                }
                let code = if k.at < opens { Code::RegistrationNotOpen } else { Code::RegistrationClosed };
                return reject(
                    code,
                    format!(
                        "the festival file gives enrolment in `{}` the window {opens} to {closes}; an operator may close and reopen it only inside it, `at` is {}",
                        p.id, k.at
                    ),
                );
            }
            if closed != k.open {
                if k.program.is_none() {
                    continue;
                }
                let now = if k.open { "open" } else { "closed" };
                return reject(Code::RegistrationUnchanged, format!("enrolment in `{}` is already {now}", p.id));
            }
            out.push(Event::RegistrationSet { id: k.id.clone(), program: p.id.clone(), open: k.open, at: k.at });
        }
        if out.len() == start {
            let now = if k.open { "open" } else { "closed" };
            return reject(
                Code::RegistrationUnchanged,
                format!("no program's enrolment window is open at {} that is not already {now}", k.at),
            );
        }
        Ok(())
    }
}

pub(super) fn registration_set(st: &mut State, program: &str, open: bool, at: Ts) -> Applied {
    if open {
        st.registration_closed.remove(program);
    } else {
        st.registration_closed.insert(program.to_string(), at);
    }
    Ok(())
}
