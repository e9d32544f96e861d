//! Guaranteed traffic: `impression` (serving opportunities by the plan in force), the
//! contracts that enrolment, settlement and the festival file create, re-planning and
//! contract ends on ticks, and the apply of the four traffic events (docs/traffic.md,
//! "In the engine").

use super::{reject, Applied, Engine};
use crate::command as cmd;
use crate::error::{Code, Rejection};
use crate::event::{ContractRec, ContractSourceRec, Event, LedgerLineRec, PlanRec, PricingRec};
use crate::festival::traffic::{Grid, HOUR_MS};
use crate::festival::RewardKind;
use crate::kinds::{LineKind, Role};
use crate::state::State;
use crate::time::Ts;
use crate::traffic::book::{ContractState, Ended, NodeCounts, SlotSeen};
use crate::traffic::live::{Cache, Contracts, Ctx};
use crate::traffic::serve::{apportion, Entry};

impl Engine {
    fn traffic_ctx(&self) -> Option<Ctx<'_>> {
        Some(Ctx { festival: &self.festival, config: self.festival.traffic.as_ref()?, grid: self.grid.as_ref()? })
    }

    /// Keeps the expansion of the plan `out` ends with, made while deciding, for the apply
    /// of that plan's event (`rebuild_traffic`) to take instead of making it again.
    fn keep_made(&self, out: &[Event], cache: Cache) {
        let made = out.iter().rev().find_map(|e| match e {
            Event::TrafficPlanned(rec) => Some((rec.clone(), None)),
            Event::TrafficPlannedShale(r) => Some((r.plan.clone(), Some(r.pricing.clone()))),
            _ => None,
        });
        *self.made.lock().unwrap_or_else(|e| e.into_inner()) =
            made.map(|(rec, pricing)| super::Made { rec, pricing, cache });
    }

    /// Rebuilds the expanded plan from the one the state records: after a snapshot, in
    /// replay, and on applying a plan's event — where the expansion the decision just made
    /// of this very plan is taken when there is one (the same function of the same plan
    /// and book, so the same cache).
    pub(super) fn rebuild_traffic(&mut self) {
        let made = self.made.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        let book = &self.state.traffic;
        if let Some(m) = made.filter(|m| book.plan.as_ref() == Some(&m.rec) && book.pricing == m.pricing) {
            // Every debug build (the test suite) checks the claim above on each plan.
            debug_assert!(m.cache == self.expand_recorded(), "a decision's plan expanded differently on apply");
            self.traffic = m.cache;
            return;
        }
        self.traffic = self.expand_recorded();
    }

    /// The expansion of the plan the state records (none without one).
    fn expand_recorded(&self) -> Cache {
        match (self.traffic_ctx(), &self.state.traffic.plan) {
            (Some(ctx), Some(rec)) => {
                let book = &self.state.traffic;
                let cs = Contracts { book, new: &[], ending: &[] };
                ctx.expand(&cs, rec, book.pricing.as_ref(), |id| book.ids.get(id))
            }
            _ => Cache::default(),
        }
    }

    pub(super) fn decide_impression(&self, k: &cmd::Impression, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let Some(ctx) = self.traffic_ctx() else {
            return reject(
                Code::TrafficNotConfigured,
                "the festival file has no [traffic] section, so there is no supply to serve; add one (docs/traffic.md)",
            );
        };
        self.in_festival(k.at)?;
        let slot = position(ctx.config.slots.iter().map(|s| s.id.as_str()), &k.slot, Code::UnknownSlot, "slot")?;
        let segment =
            position(ctx.config.segments.iter().map(|s| s.id.as_str()), &k.segment, Code::UnknownSegment, "segment")?;
        if k.count == 0 || k.count > crate::limits::IMPRESSIONS_PER_COMMAND {
            return reject(
                Code::InvalidValue,
                format!("`count` must be 1 to {}, got {}", crate::limits::IMPRESSIONS_PER_COMMAND, k.count),
            );
        }
        let hour = ctx.grid.hour_of(k.at).expect("a time inside the festival is on the grid");
        let node = ctx.grid.node(hour, slot, segment);
        let new = self.file_contracts(&ctx, k.at);
        out.extend(new.iter().cloned().map(Event::ContractCreated));
        let fresh = self.replan_if_due(&ctx, k.at, &new, &[], out);
        let cs = Contracts { book: &self.state.traffic, new: &new, ending: &[] };
        let (served, unsold) = self.serve(&ctx, &cs, fresh.as_ref(), node, k.count, k.at);
        if let Some(cache) = fresh {
            self.keep_made(out, cache);
        }
        out.push(Event::ImpressionsServed {
            slot: k.slot.clone(),
            segment: k.segment.clone(),
            node,
            hour,
            count: k.count,
            served,
            unsold,
            at: k.at,
        });
        Ok(())
    }

    /// Answers `count` opportunities at `node` by the plan in force (`fresh` if one was
    /// just made): per contract shown, in planning order, and the unsold rest.
    fn serve(
        &self,
        ctx: &Ctx<'_>,
        cs: &Contracts<'_>,
        fresh: Option<&Cache>,
        node: u32,
        count: u64,
        at: Ts,
    ) -> (Vec<(String, u64)>, u64) {
        let cache = fresh.unwrap_or(&self.traffic);
        let (Some(plan), Some(local)) = (&cache.plan, cache.local(node)) else {
            return (Vec::new(), count);
        };
        let empty = NodeCounts::default();
        let counts = match fresh {
            Some(_) => &empty,
            None => self.state.traffic.node_served.get(&node).unwrap_or(&empty),
        };
        let alloc = &plan.by_node[local];
        let supply = cache.supply[local];
        let mut entries: Vec<Entry> = Vec::with_capacity(alloc.len() + 1);
        for &(e, a) in alloc {
            let c = cache.entry_contract[e as usize];
            let (rec, delivered, ended) = cs.get(c);
            let live = rec
                .live_anchor
                .as_deref()
                .is_none_or(|a| self.state.anchor(a).is_some_and(|x| x.live_session.is_some()));
            let cap = ctx.cap(rec, delivered, ended, live, at);
            entries.push(Entry { alloc: a, served: counts.served_to(c), cap });
        }
        let planned: u64 = alloc.iter().map(|(_, a)| a).sum();
        let none = supply.saturating_sub(planned);
        entries.push(Entry { alloc: none, served: counts.unsold.min(none), cap: u64::MAX });
        let mut given = vec![0u64; entries.len()];
        let mut beyond = apportion(&entries, supply, count, &mut given);
        // What no entry could take — the node's supply used up, or every entry held back —
        // goes to the contracts still behind their curve at the supply hour's end, in
        // planning order, up to the curve: the supply beyond a node's forecast makes up
        // what nodes below it missed. (The hour's end: the hour is the unit supply is
        // forecast in, and no opportunity may come later in it.)
        if beyond > 0 {
            let hour_end = ctx.grid.hour_of(at).map_or(at, |h| ctx.grid.hour_start(h + 1));
            for (k, &(e, _)) in alloc.iter().enumerate() {
                let (rec, delivered, _) = cs.get(cache.entry_contract[e as usize]);
                let behind = ctx.target(rec, hour_end.min(rec.end)).saturating_sub(delivered.saturating_add(given[k]));
                let take = behind.min(entries[k].cap.saturating_sub(given[k])).min(beyond);
                given[k] += take;
                beyond -= take;
                if beyond == 0 {
                    break;
                }
            }
        }
        let served: Vec<(String, u64)> = alloc
            .iter()
            .zip(&given)
            .filter(|(_, g)| **g > 0)
            .map(|(&(e, _), g)| (cs.get(cache.entry_contract[e as usize]).0.id.clone(), *g))
            .collect();
        (served, given[alloc.len()] + beyond)
    }

    /// The festival file's own contracts, when they are not yet recorded.
    fn file_contracts(&self, ctx: &Ctx<'_>, at: Ts) -> Vec<ContractRec> {
        if self.state.traffic.file_contracts {
            return Vec::new();
        }
        let (f, config) = (ctx.festival, ctx.config);
        config
            .contracts
            .iter()
            .filter(|c| c.program.is_none())
            .filter_map(|c| config.contract_rec(f, c, c.id.clone(), ContractSourceRec::Festival, None, at))
            .collect()
    }

    /// Plans again when the plan in force is missing, older than `replan_every_h`
    /// supply hours, or the contracts changed; records it and returns its expansion.
    fn replan_if_due(
        &self,
        ctx: &Ctx<'_>,
        at: Ts,
        new: &[ContractRec],
        ending: &[u32],
        out: &mut Vec<Event>,
    ) -> Option<Cache> {
        let hour = ctx.grid.hour_of(at)?;
        let book = &self.state.traffic;
        let changed = book.dirty || !new.is_empty() || !ending.is_empty();
        // An opportunity before the plan's first hour (time running back across commands)
        // has no node in it: plan again from its own hour.
        let old = book.plan.as_ref().is_none_or(|p| hour < p.hour || hour >= p.hour + ctx.config.replan_every_h as u32);
        if !changed && !old {
            return None;
        }
        let cs = Contracts { book, new, ending };
        let made = ctx.make(&cs, at);
        let n = book.contracts.len() as u32;
        let cache = ctx.expand(&cs, &made.rec, made.pricing.as_ref(), |id| {
            book.ids.get(id).or_else(|| new.iter().position(|c| c.id == id).map(|i| n + i as u32))
        });
        out.push(made.event());
        Some(cache)
    }

    /// On a tick: contracts whose window has ended are closed (a shortfall made good or
    /// owed), then the plan is made again if it is due.
    pub(super) fn traffic_tick(&self, at: Ts, out: &mut Vec<Event>) {
        let Some(ctx) = self.traffic_ctx() else { return };
        let mut new = self.file_contracts(&ctx, at);
        out.extend(new.iter().cloned().map(Event::ContractCreated));
        let mut ending = Vec::new();
        for (i, c) in self.state.traffic.contracts.iter().enumerate() {
            if c.ended.is_some() || c.rec.end > at {
                continue;
            }
            ending.push(i as u32);
            let shortfall = c.rec.impressions.saturating_sub(c.delivered);
            let room = self.contract_room() > new.len() as u64;
            let make_good =
                (shortfall > 0 && room).then(|| self.make_good(&ctx, &c.rec, &new, shortfall, at)).flatten();
            out.push(Event::ContractEnded {
                contract: c.rec.id.clone(),
                delivered: c.delivered,
                shortfall,
                make_good: make_good.as_ref().map(|m| m.id.clone()),
                at,
            });
            if let Some(m) = make_good {
                out.push(Event::ContractCreated(m.clone()));
                new.push(m);
            }
        }
        if ctx.grid.hour_of(at).is_some() {
            if let Some(cache) = self.replan_if_due(&ctx, at, &new, &ending, out) {
                self.keep_made(out, cache);
            }
        }
    }

    /// The make-good of a shortfall: the same audience over `make_good_hours` from the
    /// window's end, cut at the festival's end; none (owed) when that leaves nothing or
    /// the file says to owe. `made` are the contracts this decision creates before it.
    fn make_good(
        &self,
        ctx: &Ctx<'_>,
        rec: &ContractRec,
        made: &[ContractRec],
        shortfall: u64,
        at: Ts,
    ) -> Option<ContractRec> {
        use crate::festival::traffic::OnShortfall;
        if ctx.config.on_shortfall == OnShortfall::Owe {
            return None;
        }
        let end = rec.end.plus_ms(ctx.config.make_good_hours * HOUR_MS).min(self.festival.end());
        if end <= rec.end || end <= at {
            return None;
        }
        let (root, mut depth) = match rec.id.rsplit_once("+mg").map(|(root, n)| (root, n.parse::<u64>())) {
            Some((root, Ok(n))) => (root, n.saturating_add(1)),
            _ => (rec.id.as_str(), 1),
        };
        // Ids are the clients' (a participant may be called `m1+mg1`): the next depth not
        // taken, by the book or by a contract this decision makes. There are fewer taken
        // ids than depths to try, so one is free.
        let taken = |id: &str| self.state.traffic.ids.get(id).is_some() || made.iter().any(|m| m.id == id);
        while taken(&format!("{root}+mg{depth}")) {
            depth = depth.checked_add(1)?;
        }
        Some(ContractRec {
            id: format!("{root}+mg{depth}"),
            source: ContractSourceRec::MakeGood { of: rec.id.clone() },
            impressions: shortfall,
            start: rec.end,
            end,
            at,
            ..rec.clone()
        })
    }

    /// The contracts an enrolment brings: one per `[[traffic.contracts]]` of the program.
    pub(super) fn enrolment_contracts(&self, program: &str, participant: &str, role: Role, at: Ts) -> Vec<Event> {
        let Some(ctx) = self.traffic_ctx() else { return Vec::new() };
        let track = self.festival.program(program).map(|p| p.track.clone());
        let mut out = Vec::new();
        for c in ctx.config.contracts.iter().filter(|c| c.program.as_deref() == Some(program)) {
            let source =
                ContractSourceRec::Program { program: program.to_string(), participant: participant.to_string(), role };
            let id = format!("{}/{participant}", c.id);
            let Some(rec) = ctx.config.contract_rec(ctx.festival, c, id, source, track.clone(), at) else { continue };
            if rec.end > at {
                out.push(Event::ContractCreated(rec));
            }
        }
        out
    }

    /// The contracts a settlement's traffic grants bring, by the file's grant rules.
    pub(super) fn grant_contracts(&self, settlement: u32, lines: &[LedgerLineRec], at: Ts) -> Vec<Event> {
        let Some(ctx) = self.traffic_ctx() else { return Vec::new() };
        let all: Vec<String> = ctx.config.segments.iter().map(|s| s.id.clone()).collect();
        let (mut out, mut taken) = (Vec::new(), Vec::<String>::new());
        let room = self.contract_room();
        for l in lines.iter().filter(|l| l.kind == LineKind::Award && l.amount > 0) {
            if out.len() as u64 >= room {
                break;
            }
            let Some(rule) = ctx.config.grants.iter().find(|g| g.reward == l.item) else { continue };
            let impressions = match l.item {
                RewardKind::TrafficPack => l.amount as u64,
                _ => (l.amount as u64).saturating_mul(rule.impressions.unwrap_or(0) as u64),
            };
            let end = at.plus_ms(rule.hours * HOUR_MS).min(self.festival.end());
            if end <= at || impressions == 0 {
                continue;
            }
            // A payout may award both a traffic pack and a main-venue slot: the second
            // contract of one payout is `…/2`, and so on.
            let base = format!("settle-{settlement}/{}", l.payout);
            let (mut id, mut k) = (base.clone(), 1);
            while self.state.traffic.ids.get(&id).is_some() || taken.contains(&id) {
                k += 1;
                id = format!("{base}/{k}");
            }
            taken.push(id.clone());
            out.push(Event::ContractCreated(ContractRec {
                id,
                source: ContractSourceRec::Settlement {
                    settlement,
                    payout: l.payout.clone(),
                    participant: l.participant.clone(),
                    role: l.role,
                },
                track: Some(l.track.clone()),
                slots: rule.slots.clone(),
                segments: rule.segments.clone().unwrap_or_else(|| all.clone()),
                impressions,
                start: at,
                end,
                priority: rule.priority as u8,
                pacing: rule.pacing,
                live_anchor: (rule.live_only && l.role == Role::Anchor).then(|| l.participant.clone()),
                at,
            }));
        }
        out
    }
}

fn position<'a>(
    ids: impl Iterator<Item = &'a str> + Clone,
    id: &str,
    code: Code,
    what: &str,
) -> Result<u32, Rejection> {
    ids.clone().position(|x| x == id).map(|i| i as u32).ok_or_else(|| {
        let known: Vec<&str> = ids.collect();
        Rejection::new(code, format!("no traffic {what} `{id}` in the festival file; {what}s: {}", known.join(", ")))
    })
}

/// The supply grid of a festival with `[traffic]`.
pub(super) fn grid(f: &crate::festival::Festival) -> Option<Grid> {
    f.traffic.as_ref().map(|t| Grid::new(f, t))
}

pub(super) fn contract_created(st: &mut State, rec: &ContractRec) -> Applied {
    let b = &mut st.traffic;
    if b.ids.get(&rec.id).is_some() {
        return Err(format!("contract `{}` already exists", rec.id));
    }
    b.ids.intern(&rec.id);
    if rec.source == ContractSourceRec::Festival {
        b.file_contracts = true;
    }
    b.contracts.push(ContractState { rec: rec.clone(), delivered: 0, by_day: Default::default(), ended: None });
    b.dirty = true;
    Ok(())
}

pub(super) fn planned(st: &mut State, rec: &PlanRec, pricing: Option<&PricingRec>) -> Applied {
    let b = &mut st.traffic;
    b.plan = Some(rec.clone());
    b.pricing = pricing.cloned();
    b.plans += 1;
    b.dirty = false;
    b.node_served.clear();
    Ok(())
}

pub(super) struct Served<'a> {
    pub slot: &'a str,
    pub segment: &'a str,
    pub node: u32,
    pub count: u64,
    pub served: &'a [(String, u64)],
    pub unsold: u64,
    pub hour: u32,
    pub at: Ts,
}

pub(super) fn impressions_served(st: &mut State, s: Served<'_>) -> Applied {
    let b = &mut st.traffic;
    let mut shown = 0u64;
    let mut idx = Vec::with_capacity(s.served.len());
    for (id, n) in s.served {
        let i = b.ids.get(id).ok_or_else(|| format!("unknown contract `{id}`"))?;
        idx.push((i, *n));
        shown += n;
    }
    if shown + s.unsold != s.count {
        return Err(format!("{} shown and {} unsold do not make {} opportunities", shown, s.unsold, s.count));
    }
    let counts = b.node_served.entry(s.node).or_default();
    for &(i, n) in &idx {
        match counts.served.iter_mut().find(|(c, _)| *c == i) {
            Some((_, k)) => *k += n,
            None => counts.served.push((i, n)),
        }
        let c = &mut b.contracts[i as usize];
        c.delivered += n;
        *c.by_day.entry(s.at.day()).or_default() += n;
    }
    counts.unsold += s.unsold;
    // Looked up before inserting: most opportunities are of a slot already seen, and
    // `entry` would allocate the key for each.
    if !b.by_slot.contains_key(s.slot) {
        b.by_slot.insert(s.slot.to_string(), SlotSeen { first_hour: s.hour, last_hour: s.hour, ..Default::default() });
    }
    let seen = b.by_slot.get_mut(s.slot).expect("inserted above");
    if s.hour > seen.last_hour {
        seen.in_last_hour = 0;
        seen.last_hour = s.hour;
    }
    if s.hour == seen.last_hour {
        seen.in_last_hour += s.count;
    }
    seen.first_hour = seen.first_hour.min(s.hour);
    seen.total += s.count;
    if !b.by_segment.contains_key(s.segment) {
        b.by_segment.insert(s.segment.to_string(), (0, 0));
    }
    let seg = b.by_segment.get_mut(s.segment).expect("inserted above");
    seg.0 += s.count;
    seg.1 += shown;
    if b.hour_seen.0 != s.hour {
        b.hour_seen = (s.hour, Default::default());
    }
    *b.hour_seen.1.entry(s.node).or_default() += s.count;
    b.opportunities += s.count;
    b.served += shown;
    b.unsold += s.unsold;
    Ok(())
}

pub(super) fn contract_ended(st: &mut State, id: &str, shortfall: u64, make_good: Option<&str>, at: Ts) -> Applied {
    let b = &mut st.traffic;
    let i = b.ids.get(id).ok_or_else(|| format!("unknown contract `{id}`"))?;
    let c = &mut b.contracts[i as usize];
    if c.ended.is_some() {
        return Err(format!("contract `{id}` has already ended"));
    }
    c.ended = Some(Ended { at, shortfall, make_good: make_good.map(str::to_string) });
    b.dirty = true;
    Ok(())
}
