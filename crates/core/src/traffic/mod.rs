//! Guaranteed traffic: allocating forecast impression supply to contracts that each need
//! a number of impressions from the supply they are eligible for (docs/traffic.md).
//!
//! - [`hwm`]: the High Water Mark planner (Chen et al., EC'12): one pass over the
//!   contracts, each taking the same fraction of every node it may use.
//! - [`shale`]: the SHALE planner (Bharadwaj et al., KDD'12): node prices and contract
//!   duals iterated a fixed number of times, then HWM's pass guided by the prices.
//! - [`serve`]: answering an impression opportunity with the contract to show, following
//!   the plan deterministically (each opportunity to the entry whose next impression is
//!   due first), so replay repeats every answer.
//!
//! Everything is integer arithmetic: fractions are parts per billion, impressions are
//! whole, and every tie is broken by index, so a plan is the same on every machine.

pub mod book;
pub mod hwm;
pub mod live;
pub mod serve;
pub mod shale;
#[cfg(test)]
mod testing;
pub mod view;

/// Parts per billion: the unit of every fraction here.
pub const PPB: u64 = 1_000_000_000;

/// The smallest `x` in `[lo, hi]` for which `reaches(x)` holds, by bisection, given that it
/// holds at `hi` and `reaches` is monotone (false, then true): HWM's share and SHALE's `ζ`.
fn smallest_reaching(mut lo: i64, mut hi: i64, reaches: impl Fn(i64) -> bool) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Rounding each node's take down separately can pass the demand by a few impressions:
/// the excess is given back one impression per node, from the last eligible node
/// backwards (and again if need be), skipping nodes that give nothing — HWM and SHALE alike.
fn give_back(takes: &mut [u64], demand: u64) {
    let mut excess = takes.iter().sum::<u64>().saturating_sub(demand);
    while excess > 0 {
        for t in takes.iter_mut().rev().filter(|t| **t > 0) {
            if excess == 0 {
                break;
            }
            *t -= 1;
            excess -= 1;
        }
    }
}

/// A planning instance: forecast supply per node, and the contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Forecast impressions of each supply node (a venue slot × hour × audience segment).
    pub supply: Vec<u64>,
    pub contracts: Vec<Contract>,
}

/// A guaranteed contract: `demand` impressions from the nodes in `eligible`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// Impressions promised.
    pub demand: u64,
    /// The supply nodes it may be shown on: indexes into [`Instance::supply`], ascending,
    /// without repeats.
    pub eligible: Vec<u32>,
    /// Higher is planned first; within a priority, the contract with less eligible supply
    /// is planned first.
    pub priority: u8,
}

/// Why an instance cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// A contract names a node that does not exist, or names nodes out of order.
    Eligible { contract: usize, why: &'static str },
}

impl Instance {
    /// Checks the eligibility lists: each ascending, without repeats, within the nodes.
    pub fn validate(&self) -> Result<(), Invalid> {
        let nodes = self.supply.len();
        for (j, c) in self.contracts.iter().enumerate() {
            if c.eligible.windows(2).any(|w| w[0] >= w[1]) {
                return Err(Invalid::Eligible {
                    contract: j,
                    why: "eligible nodes must be ascending, without repeats",
                });
            }
            if c.eligible.last().is_some_and(|&i| i as usize >= nodes) {
                return Err(Invalid::Eligible { contract: j, why: "an eligible node does not exist" });
            }
        }
        Ok(())
    }

    /// What is left to plan once some supply has been used and some impressions
    /// delivered: each node's forecast less the opportunities it has had (`used`, per
    /// node), each contract's demand less what it got (`delivered`, per contract), at
    /// least 0; eligibility and priorities unchanged. Planning this again is the
    /// re-plan of docs/traffic.md, "Re-planning".
    pub fn residual(&self, used: &[u64], delivered: &[u64]) -> Instance {
        Instance {
            supply: self.supply.iter().zip(used).map(|(s, u)| s.saturating_sub(*u)).collect(),
            contracts: self
                .contracts
                .iter()
                .zip(delivered)
                .map(|(c, d)| Contract { demand: c.demand.saturating_sub(*d), ..c.clone() })
                .collect(),
        }
    }

    /// A contract's total eligible supply.
    pub fn eligible_supply(&self, j: usize) -> u64 {
        self.contracts[j].eligible.iter().map(|&i| self.supply[i as usize]).sum()
    }
}

/// An allocation plan: how many impressions of each node go to each contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The order the contracts were planned in.
    pub order: Vec<u32>,
    /// Each contract's share of every eligible node's supply, in parts per billion (its
    /// "high water mark"); [`PPB`] for one that took all it could and still fell short.
    pub share_ppb: Vec<u64>,
    /// Per node: `(contract, impressions)`, in planning order.
    pub by_node: Vec<Vec<(u32, u64)>>,
    /// Per contract: impressions planned.
    pub planned: Vec<u64>,
    /// Per contract: demand that the supply left to it cannot cover.
    pub shortfall: Vec<u64>,
}

impl Plan {
    /// Impressions of node `i` planned for contract `j`.
    pub fn allocated(&self, i: usize, j: u32) -> u64 {
        self.by_node[i].iter().find(|(c, _)| *c == j).map_or(0, |(_, n)| *n)
    }
}
