//! Consistency checks of a state read from outside the engine (a snapshot). A state the
//! engine built always passes; one that fails would make later lookups index out of
//! range, so it is refused before anything uses it.

use crate::festival::{Festival, Role};
use crate::state::{Interner, State, Stats};

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn index(what: &str, i: u32, len: usize) -> Result<(), String> {
    ensure((i as usize) < len, || format!("{what} index {i} is out of range (there are {len})"))
}

fn opt_index(what: &str, i: Option<u32>, len: usize) -> Result<(), String> {
    i.map_or(Ok(()), |i| index(what, i, len))
}

fn table(what: &str, ids: &Interner, len: usize) -> Result<(), String> {
    ensure(ids.len() == len, || format!("{} {what} ids for {len} {what}s", ids.len()))
}

fn stats(s: &Stats, users: usize) -> Result<(), String> {
    s.buyers.iter().try_for_each(|&u| index("buyer", u, users))
}

impl State {
    /// Checks that every index the state holds points into its tables, and that its
    /// shape fits `festival`.
    pub fn check(&self, festival: &Festival) -> Result<(), String> {
        let (nm, na, np, ns, nu) =
            (self.merchants.len(), self.anchors.len(), self.providers.len(), self.sessions.len(), self.users.len());
        table("merchant", &self.merchant_ids, nm)?;
        table("anchor", &self.anchor_ids, na)?;
        table("provider", &self.provider_ids, np)?;
        table("session", &self.session_ids, ns)?;
        let tiers = festival.anchor_tiers.len();
        ensure(self.by_anchor_tier.len() == tiers, || {
            format!("{} anchor tiers, the festival declares {tiers}", self.by_anchor_tier.len())
        })?;
        for m in &self.merchants {
            m.bindings.iter().try_for_each(|(_, p)| opt_index("provider", *p, np))?;
            ensure(m.bindings.windows(2).all(|w| w[0].0 <= w[1].0), || "bindings out of time order".into())?;
            stats(&m.stats, nu)?;
        }
        for a in &self.anchors {
            opt_index("merchant", a.merchant, nm)?;
            opt_index("anchor tier", a.tier, tiers)?;
            opt_index("session", a.live_session, ns)?;
            stats(&a.stats, nu)?;
        }
        for p in &self.providers {
            stats(&p.stats, nu)?;
        }
        for s in &self.sessions {
            index("anchor", s.anchor, na)?;
            s.present.keys().chain(s.unique_viewers.iter()).try_for_each(|&u| index("viewer", u, nu))?;
            for &(m, sku) in s.products.keys() {
                index("merchant", m, nm)?;
                index("sku", sku, self.skus.len())?;
            }
            stats(&s.stats, nu)?;
        }
        for (id, o) in &self.orders {
            let bad = |e: String| format!("order `{id}`: {e}");
            index("user", o.user, nu).map_err(bad)?;
            index("merchant", o.merchant, nm).map_err(bad)?;
            opt_index("anchor", o.anchor, na).map_err(bad)?;
            opt_index("provider", o.provider, np).map_err(bad)?;
            opt_index("session", o.session, ns).map_err(bad)?;
            opt_index("anchor tier", o.anchor_tier, tiers).map_err(bad)?;
            ensure(0 <= o.refunded.0 && o.refunded <= o.paid, || bad("refunded more than paid".into()))?;
        }
        for (program, enrolled) in &self.enrolments {
            ensure(festival.program(program).is_some(), || format!("enrolments in unknown program `{program}`"))?;
            for &(role, i) in enrolled.keys() {
                let len = match role {
                    Role::Merchant => nm,
                    Role::Anchor => na,
                    Role::Provider => np,
                };
                index(role.as_str(), i, len)?;
            }
        }
        for s in self.by_brand_tier.iter().chain(&self.by_anchor_tier).chain(self.by_day.values()) {
            stats(s, nu)?;
        }
        stats(&self.total, nu)
    }
}
