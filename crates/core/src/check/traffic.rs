//! Consistency checks of the guaranteed-traffic book ([`crate::traffic::book::Book`]): the
//! contract ids interned at their contracts' places; each contract's slots, segments,
//! live-room anchor, window, priority and deliveries; where contracts come from, as the
//! decisions that make more of them rely on; the plan in force and its pricing (contracts
//! that exist, one correction per slot, nodes of the festival's supply grid); what the
//! slots, segments and nodes have seen; and the counts adding up as the engine keeps them.

use super::{count, day, ensure, index, range, table, time, At};
use crate::event::{ContractSourceRec, PlanRec, PricingRec};
use crate::festival::traffic::{max, Grid, TrafficConfig};
use crate::festival::Festival;
use crate::state::State;
use crate::traffic::book::{Book, ContractState};
use crate::traffic::PPB;

/// The most any of the book's counts may be. Each grows by at most one `impression`'s
/// count (10⁹) per event, so like the event count it stays far below this, which leaves
/// billions of commands before 64 bits and lets the report take `served` as an `i64`.
const COUNT: u64 = i64::MAX as u64;

pub(super) fn check(st: &State, f: &Festival) -> Result<(), String> {
    let b = &st.traffic;
    // Without `[traffic]` no command touches the book, so it stays as it started.
    let Some(config) = f.traffic.as_ref() else { return empty(b) };
    let grid = Grid::new(f, config);
    ids(b, f)?;
    for (i, c) in b.contracts.iter().enumerate() {
        contract(c, st, f, config).at(|| format!("contract {i} `{}`", c.rec.id))?;
    }
    sources(st, config)?;
    totals(b, st.events)?;
    seen(b, config, &grid)?;
    nodes(b, &grid)?;
    if let Some(p) = &b.plan {
        plan(b, p, config, &grid).at(|| "the plan in force".into())?;
    }
    pricing(b, &grid).at(|| "the plan's pricing".into())
}

fn empty(b: &Book) -> Result<(), String> {
    let untouched = b.ids.is_empty()
        && b.contracts.is_empty()
        && b.plan.is_none()
        && b.pricing.is_none()
        && b.plans == 0
        && b.node_served.is_empty()
        && b.by_slot.is_empty()
        && b.by_segment.is_empty()
        && b.hour_seen.1.is_empty()
        && b.opportunities == 0
        && b.served == 0
        && b.unsold == 0;
    ensure(untouched, || "the festival has no [traffic], but the book has contracts, plans or opportunities".into())
}

/// Every lookup by name (a plan's entries, what an impression served, a contract's end)
/// takes the interned index as the contract's place, and what is served is recorded by
/// the contract's own `rec.id`: so the names are the contracts', in order.
fn ids(b: &Book, f: &Festival) -> Result<(), String> {
    let (n, cap) = (b.contracts.len(), f.capacity.contracts);
    table("contract", &b.ids, n)?;
    count("contracts", n as u64, cap)?;
    for (i, c) in b.contracts.iter().enumerate() {
        ensure(b.ids.get(&c.rec.id) == Some(i as u32), || {
            format!("contract {i} is `{}`, but its id is interned as `{}`", c.rec.id, b.ids.name(i as u32))
        })?;
    }
    Ok(())
}

/// One contract: a window ending inside the festival (every source cuts it there), slots
/// and segments the file declares, a live-room anchor that exists, a priority the planner
/// may double and raise by one in a `u8`, days of delivery adding up to what it was
/// delivered, and an end whose shortfall is part of its impressions.
fn contract(c: &ContractState, st: &State, f: &Festival, config: &TrafficConfig) -> Result<(), String> {
    let r = &c.rec;
    time("start", r.start)?;
    time("at", r.at)?;
    range("end", r.end.0, r.start.0, f.end().0)?;
    for s in &r.slots {
        ensure(config.slots.iter().any(|x| x.id == *s), || format!("no traffic slot `{s}`"))?;
    }
    for s in &r.segments {
        ensure(config.segments.iter().any(|x| x.id == *s), || format!("no traffic segment `{s}`"))?;
    }
    if let Some(a) = &r.live_anchor {
        ensure(st.anchor_ids.get(a).is_some(), || format!("its live-room anchor `{a}` does not exist"))?;
    }
    range("priority", i64::from(r.priority), 0, max::PRIORITY)?;
    let mut by_day = 0u128;
    for (d, &k) in &c.by_day {
        day("a day of delivery", *d)?;
        by_day += u128::from(k);
    }
    ensure(by_day == u128::from(c.delivered), || {
        format!("delivered {}, but its days of delivery add up to {by_day}", c.delivered)
    })?;
    if let Some(e) = &c.ended {
        time("ended at", e.at)?;
        count("shortfall", e.shortfall, r.impressions)?;
    }
    Ok(())
}

/// Where contracts come from. The decisions that make contracts take their ids to be
/// new (applying one already there fails): the file's own are made when `file_contracts`
/// is not set, so none of them may be there then; a program's comes with the enrolment
/// that brought it (a participant enrols once); a make-good with the end of the contract
/// it makes good, which names it (a contract ends once). Each pair is one decision's, so
/// it holds between commands, where snapshots are taken.
fn sources(st: &State, config: &TrafficConfig) -> Result<(), String> {
    let b = &st.traffic;
    if !b.file_contracts {
        for c in config.contracts.iter().filter(|c| c.program.is_none()) {
            let made = b.ids.get(&c.id).is_some();
            ensure(!made, || format!("the file's contract `{}` is recorded, but not that they all were", c.id))?;
        }
    }
    for c in &b.contracts {
        let here = || format!("contract `{}`", c.rec.id);
        match &c.rec.source {
            ContractSourceRec::Program { program, participant, role } => {
                let p = crate::contest::lookup(st, *role, participant);
                let enrolled = p.is_some_and(|p| st.enrolments.get(program).is_some_and(|m| m.contains_key(&p)));
                let who = role.as_str();
                ensure(enrolled, || format!("{who} `{participant}` is not enrolled in `{program}`")).at(here)?;
            }
            ContractSourceRec::MakeGood { of } => {
                let named = b.contract(of).and_then(|o| o.ended.as_ref()).and_then(|e| e.make_good.as_deref());
                let ok = named == Some(c.rec.id.as_str());
                ensure(ok, || format!("it makes good `{of}`, whose end does not name it")).at(here)?;
            }
            ContractSourceRec::Festival | ContractSourceRec::Settlement { .. } => {}
        }
        if let Some(m) = c.ended.as_ref().and_then(|e| e.make_good.as_deref()) {
            let of = b.contract(m).map(|x| &x.rec.source);
            let ok = matches!(of, Some(ContractSourceRec::MakeGood { of }) if *of == c.rec.id);
            ensure(ok, || format!("its make-good `{m}` is not a make-good of it")).at(here)?;
        }
    }
    Ok(())
}

/// The book's totals: every opportunity served or unsold, every impression served
/// delivered to one contract, one plan per event at most (`plans` is added to); and the
/// contracts' impressions within 64 bits together, as the report adds them (promised,
/// and the shortfalls owed, each at most its contract's impressions) in a `u64`.
fn totals(b: &Book, events: u64) -> Result<(), String> {
    count("opportunities", b.opportunities, COUNT)?;
    let (served, unsold) = (u128::from(b.served), u128::from(b.unsold));
    ensure(served + unsold == u128::from(b.opportunities), || {
        format!("{served} served and {unsold} unsold of {} opportunities", b.opportunities)
    })?;
    count("plans", b.plans, events)?;
    let delivered: u128 = b.contracts.iter().map(|c| u128::from(c.delivered)).sum();
    ensure(delivered == served, || format!("the contracts were delivered {delivered}, but {served} were served"))?;
    let promised: u128 = b.contracts.iter().map(|c| u128::from(c.rec.impressions)).sum();
    ensure(promised <= u128::from(u64::MAX), || format!("the contracts' impressions add up to {promised}"))
}

/// What the slots and segments have seen: the file's, in hours of the grid, adding up
/// to the opportunities (the forecast correction takes `in_last_hour` off `total`).
fn seen(b: &Book, config: &TrafficConfig, grid: &Grid) -> Result<(), String> {
    let mut total = 0u128;
    for (id, s) in &b.by_slot {
        let here = || format!("slot `{id}` seen");
        ensure(config.slots.iter().any(|x| x.id == *id), || "not a traffic slot".into()).at(here)?;
        let last = i64::from(grid.hours) - 1;
        range("first_hour", i64::from(s.first_hour), 0, last).at(here)?;
        range("last_hour", i64::from(s.last_hour), i64::from(s.first_hour), last).at(here)?;
        count("in_last_hour", s.in_last_hour, s.total).at(here)?;
        total += u128::from(s.total);
    }
    let opportunities = u128::from(b.opportunities);
    ensure(total == opportunities, || format!("the slots saw {total} of {opportunities} opportunities"))?;
    let (mut seen, mut served) = (0u128, 0u128);
    for (id, &(o, s)) in &b.by_segment {
        let here = || format!("segment `{id}` seen");
        ensure(config.segments.iter().any(|x| x.id == *id), || "not a traffic segment".into()).at(here)?;
        count("served", s, o).at(here)?;
        seen += u128::from(o);
        served += u128::from(s);
    }
    ensure(seen == opportunities && served == u128::from(b.served), || {
        format!("the segments saw {seen} opportunities and served {served}, of {opportunities} and {}", b.served)
    })
}

/// A node of the grid, in supply hour `hour` when one is given.
fn node(n: u32, grid: &Grid, hour: Option<u32>) -> Result<(), String> {
    index("node", n, grid.nodes() as usize)?;
    let h = grid.parts(n).0;
    ensure(hour.is_none_or(|x| x == h), || format!("node {n} is of hour {h}, not {}", hour.unwrap_or(h)))
}

/// What nodes have seen: under the plan in force (emptied by each plan), impressions of
/// existing contracts; in the latest opportunity's hour, that hour's nodes. Both are part
/// of the opportunities.
fn nodes(b: &Book, grid: &Grid) -> Result<(), String> {
    let mut all = 0u128;
    for (&n, c) in &b.node_served {
        node(n, grid, None).at(|| "node served".into())?;
        for &(j, k) in &c.served {
            index("contract", j, b.contracts.len()).at(|| format!("node {n} served"))?;
            all += u128::from(k);
        }
        all += u128::from(c.unsold);
    }
    let opportunities = u128::from(b.opportunities);
    ensure(all <= opportunities, || format!("the nodes served {all} under the plan, of {opportunities} in all"))?;
    let (h, seen) = &b.hour_seen;
    let mut in_hour = 0u128;
    for (&n, &k) in seen {
        node(n, grid, Some(*h)).at(|| "the latest hour seen".into())?;
        in_hour += u128::from(k);
    }
    ensure(in_hour <= opportunities, || format!("the latest hour saw {in_hour}, of {opportunities} in all"))
}

/// The plan: made at a time of the grid's hour `hour` (a re-plan is due `replan_every_h`
/// hours on, added in a `u32`), one forecast correction per slot within the tenth to ten
/// times `correction` clamps it to (the supply it plans stays within 64 bits), `used` of
/// that hour's nodes, and entries of existing contracts as `make` records them.
fn plan(b: &Book, p: &PlanRec, config: &TrafficConfig, grid: &Grid) -> Result<(), String> {
    time("at", p.at)?;
    let hour = grid.hour_of(p.at);
    ensure(hour == Some(p.hour), || format!("hour {} is not that of its time, {hour:?}", p.hour))?;
    let (n, slots) = (p.correction_ppb.len(), config.slots.len());
    ensure(n == slots, || format!("{n} forecast corrections for {slots} slots"))?;
    for &c in &p.correction_ppb {
        ensure((PPB / 10..=10 * PPB).contains(&c), || format!("a forecast correction of {c} ppb"))?;
    }
    let mut used = 0u128;
    for &(n, k) in &p.used {
        node(n, grid, Some(p.hour)).at(|| "used".into())?;
        used += u128::from(k);
    }
    ensure(used <= u128::from(b.opportunities), || format!("{used} used, of {} opportunities", b.opportunities))?;
    for (k, e) in p.entries.iter().enumerate() {
        let here = || format!("entry {k}");
        let Some(j) = b.ids.get(&e.contract) else { return Err(format!("entry {k}: no contract `{}`", e.contract)) };
        let impressions = b.contracts[j as usize].rec.impressions;
        // A part of what was left of the contract, at twice its priority (plus one behind).
        range("part", i64::from(e.part), 0, 2).at(here)?;
        count("demand", e.demand, impressions).at(here)?;
        range("priority", i64::from(e.priority), 0, 2 * max::PRIORITY + 1).at(here)?;
        count("share_ppb", e.share_ppb, PPB).at(here)?;
    }
    Ok(())
}

/// A SHALE plan's pricing: of the plan in force, one `ζ` per entry, prices of nodes of
/// the grid ascending (the replay finds a node's price by binary search).
fn pricing(b: &Book, grid: &Grid) -> Result<(), String> {
    let Some(PricingRec { zeta_ppb, prices }) = &b.pricing else { return Ok(()) };
    let Some(p) = &b.plan else { return Err("there is no plan".into()) };
    let (z, e) = (zeta_ppb.len(), p.entries.len());
    ensure(z == e, || format!("{z} ζ for {e} plan entries"))?;
    prices.iter().try_for_each(|&(n, _)| node(n, grid, None))?;
    ensure(prices.windows(2).all(|w| w[0].0 < w[1].0), || "the priced nodes are not ascending".into())
}
