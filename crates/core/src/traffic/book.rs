//! The guaranteed-traffic book: the contracts, what each has been delivered, the plan in
//! force and what each node has served under it. Part of the state, built only by
//! applying events (crate::engine::traffic applies them).

use crate::event::{ContractRec, PlanRec, PricingRec};
use crate::hash::Map as HashMap;
use crate::intern::Interner;
use crate::time::{Day, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Book {
    pub ids: Interner,
    /// In creation order: a contract's index is its place here.
    pub contracts: Vec<ContractState>,
    /// The plan in force (the latest `traffic_planned` or `traffic_planned_shale`).
    pub plan: Option<PlanRec>,
    /// SHALE's pricing of the plan in force; none for an HWM plan.
    pub pricing: Option<PricingRec>,
    pub plans: u64,
    /// A contract was created or ended since the plan was made.
    pub dirty: bool,
    /// The festival file's own contracts have been recorded.
    pub file_contracts: bool,
    /// Per node, under the plan in force: impressions per contract index, and unsold.
    pub node_served: HashMap<u32, NodeCounts>,
    /// Per slot id: the opportunities seen.
    pub by_slot: BTreeMap<String, SlotSeen>,
    /// Per segment id: opportunities seen and impressions served.
    pub by_segment: BTreeMap<String, (u64, u64)>,
    /// The supply hour of the latest opportunity, and what each node of it has seen.
    pub hour_seen: (u32, BTreeMap<u32, u64>),
    pub opportunities: u64,
    pub served: u64,
    pub unsold: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounts {
    pub served: Vec<(u32, u64)>,
    pub unsold: u64,
}

impl NodeCounts {
    pub fn served_to(&self, contract: u32) -> u64 {
        self.served.iter().find(|(c, _)| *c == contract).map_or(0, |(_, n)| *n)
    }
}

/// What one slot has seen: the hours it was first and last seen in, all its
/// opportunities, and those of its last hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotSeen {
    pub first_hour: u32,
    pub last_hour: u32,
    pub total: u64,
    pub in_last_hour: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContractState {
    pub rec: ContractRec,
    pub delivered: u64,
    /// Impressions per festival day.
    pub by_day: BTreeMap<Day, u64>,
    pub ended: Option<Ended>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ended {
    pub at: Ts,
    pub shortfall: u64,
    /// The make-good contract that took the shortfall; none means it is owed.
    pub make_good: Option<String>,
}

impl Book {
    pub fn contract(&self, id: &str) -> Option<&ContractState> {
        self.ids.get(id).map(|i| &self.contracts[i as usize])
    }

    /// Shortfall owed: ended contracts' shortfalls that no make-good took.
    pub fn owed(&self) -> u64 {
        self.contracts
            .iter()
            .filter_map(|c| c.ended.as_ref())
            .filter(|e| e.make_good.is_none())
            .map(|e| e.shortfall)
            .sum()
    }
}
