//! Calibrated profiles: worlds drawn at the proportions of a real festival, so that the
//! report computes — from the ingested events alone — what the festival announced.
//! docs/simulator.md ("Calibrated profiles") says which parameter is calibrated to which
//! figure and which are illustrative.
//!
//! A profile first draws a *plan* ([`plan`]): every merchant's net GMV (heavy-tailed,
//! stratified so that a seed moves a brand within its quantile, not across the tail), the
//! part each brand sells through its own account (self-broadcast), the part on the shelf,
//! the rest split into pieces sold by other anchors (drawn in proportion to heavy-tailed
//! anchor sizes, by tier), and which brands a provider serves (chosen until their share of
//! self-broadcast GMV is the profile's). Then [`write`] turns the plan into commands day by
//! day: each plan is sold in proportion to the festival's calendar, order by order, until
//! what has been sold (net of the refunds drawn for it) reaches it.
//!
//! Scale: at `1/K`, one simulated buyer stands for K — every order line's quantity and
//! every red packet are K times one buyer's — so the money, the counts of brands and
//! providers, and every share and multiple keep their full size while the commands are
//! about 1/K of the full rehearsal's.

mod plan;
mod session;
mod write;

use std::io::{self, Write};

pub use write::Written;

/// A heavy-tailed size (GMV in fen, or an anchor's relative size): Pareto with `min` and
/// shape `alpha_x100`/100, truncated at `max`, drawn stratified (item i of n from the (i + ¼ + ½·r)/n quantile of the upper
/// tail).
#[derive(Debug, Clone, Copy)]
pub struct Pareto {
    pub min: i64,
    pub alpha_x100: u32,
    pub max: i64,
}

/// A tier of anchors: how many, the band of the festival's anchor tiers their followers
/// fall in (0 = the highest threshold), their sizes, and their share of the GMV other
/// anchors sell for merchants.
#[derive(Debug, Clone, Copy)]
pub struct AnchorTier {
    pub count: usize,
    pub band: usize,
    pub size: Pareto,
    pub share_bp: u64,
}

/// What a calibrated world is made of. Money in fen.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    pub about: &'static str,
    /// The festival file the profile is calibrated for (its `[festival] id`), and the
    /// file's text, so that `dacu simulate --profile` needs no path.
    pub festival_id: &'static str,
    pub festival_toml: &'static str,
    pub merchants: usize,
    pub ska: usize,
    pub ka: usize,
    pub ska_gmv: Pareto,
    pub ka_gmv: Pareto,
    pub other_gmv: Pareto,
    /// Share of a brand's GMV sold through its own account, drawn in [lo, hi) bp: SKA, KA.
    pub self_broadcast_bp: [(u64, u64); 2],
    /// The brands' self-broadcast GMV the plan is scaled to, exactly.
    pub self_broadcast_fen: i64,
    /// Provider-served brands' share of that self-broadcast GMV.
    pub served_self_broadcast_bp: u64,
    /// Share of all merchants a provider serves.
    pub served_merchants_bp: u64,
    pub providers: usize,
    pub certified: usize,
    /// Share of a merchant's other GMV (not self-broadcast) sold on the shelf.
    pub shelf_bp: u64,
    pub anchor_tiers: [AnchorTier; 3],
    /// The band of the brand accounts' followers: SKA, KA.
    pub brand_account_band: [usize; 2],
    /// Red packets in the live rooms over the festival, fen: each session's share is in
    /// proportion to what it sells of the planned live GMV.
    pub red_packets_fen: i64,
    /// Share of participants who enrol in a program they may enter.
    pub enrol_bp: u64,
}

/// Every profile, by name.
pub fn profiles() -> [Profile; 3] {
    [kuaishou_2021(), kuaishou_2020(), kuaishou_2021_07()]
}

/// A profile by name; None for a name no profile has.
pub fn profile(name: &str) -> Option<Profile> {
    profiles().into_iter().find(|p| p.name == name)
}

/// The names, for messages.
pub fn names() -> String {
    profiles().iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

const Y: i64 = 100; // fen per yuan
const M: i64 = 1_000_000 * Y; // fen per million yuan

/// The 2021 116 festival: the article's figures (docs/simulator.md).
pub fn kuaishou_2021() -> Profile {
    Profile {
        name: "kuaishou-2021",
        about: "the 2021 116 Quality Shopping Festival, at the proportions its merchant conference reported",
        festival_id: "kuaishou-116-2021",
        festival_toml: include_str!("../../../../festivals/kuaishou-116-2021.toml"),
        merchants: 10_000,
        ska: 100,
        ka: 900,
        ska_gmv: Pareto { min: 14 * M, alpha_x100: 110, max: 600 * M },
        ka_gmv: Pareto { min: M / 2, alpha_x100: 130, max: 45 * M },
        other_gmv: Pareto { min: 20_000 * Y, alpha_x100: 120, max: 20 * M },
        self_broadcast_bp: [(2_500, 4_500), (2_000, 4_000)],
        self_broadcast_fen: 2_800 * M,
        served_self_broadcast_bp: 3_800,
        served_merchants_bp: 1_750,
        providers: 460,
        certified: 423,
        shelf_bp: 2_500,
        anchor_tiers: [
            AnchorTier { count: 60, band: 0, size: Pareto { min: 1, alpha_x100: 110, max: 1_000 }, share_bp: 3_000 },
            AnchorTier { count: 1_500, band: 1, size: Pareto { min: 1, alpha_x100: 130, max: 200 }, share_bp: 5_500 },
            AnchorTier { count: 6_000, band: 2, size: Pareto { min: 1, alpha_x100: 150, max: 50 }, share_bp: 1_500 },
        ],
        brand_account_band: [0, 1],
        red_packets_fen: 330 * M,
        enrol_bp: 2_000,
    }
}

/// The 2020 116 festival, the baseline: brands' self-broadcast a quarter of 2021's, a
/// fifth of it served by providers.
pub fn kuaishou_2020() -> Profile {
    Profile {
        name: "kuaishou-2020",
        about: "the 2020 116 festival, the year-on-year baseline of 2021's",
        festival_id: "kuaishou-116-2020",
        festival_toml: include_str!("../../../../festivals/kuaishou-116-2020.toml"),
        merchants: 6_000,
        ska: 60,
        ka: 540,
        ska_gmv: Pareto { min: 6 * M, alpha_x100: 110, max: 250 * M },
        ka_gmv: Pareto { min: M / 4, alpha_x100: 130, max: 20 * M },
        other_gmv: Pareto { min: 10_000 * Y, alpha_x100: 120, max: 10 * M },
        self_broadcast_bp: [(1_500, 3_500), (1_200, 3_000)],
        // 2021's served self-broadcast (38% of ¥2,800M) over 8, at a 20.5% share:
        // 8× the served GMV, 38 / 20.5 = 1.85× the share.
        self_broadcast_fen: 636 * M,
        served_self_broadcast_bp: 2_050,
        served_merchants_bp: 1_000,
        providers: 160,
        certified: 120,
        shelf_bp: 3_000,
        anchor_tiers: [
            AnchorTier { count: 40, band: 0, size: Pareto { min: 1, alpha_x100: 110, max: 1_000 }, share_bp: 4_000 },
            AnchorTier { count: 800, band: 1, size: Pareto { min: 1, alpha_x100: 130, max: 200 }, share_bp: 4_500 },
            AnchorTier { count: 3_000, band: 2, size: Pareto { min: 1, alpha_x100: 150, max: 50 }, share_bp: 1_500 },
        ],
        brand_account_band: [0, 1],
        red_packets_fen: 54 * M,
        enrol_bp: 2_000,
    }
}

/// July 2021, the reference month: an ordinary month in which mid-tier anchors sold most.
pub fn kuaishou_2021_07() -> Profile {
    Profile {
        name: "kuaishou-2021-07",
        about: "July 2021, the month the conference's mid-tier anchor share is about",
        festival_id: "kuaishou-2021-07",
        festival_toml: include_str!("../../../../festivals/kuaishou-2021-07.toml"),
        merchants: 8_000,
        ska: 80,
        ka: 720,
        ska_gmv: Pareto { min: 3 * M, alpha_x100: 110, max: 150 * M },
        ka_gmv: Pareto { min: M / 8, alpha_x100: 130, max: 10 * M },
        other_gmv: Pareto { min: 8_000 * Y, alpha_x100: 120, max: 5 * M },
        self_broadcast_bp: [(2_000, 4_000), (1_500, 3_500)],
        self_broadcast_fen: 300 * M,
        served_self_broadcast_bp: 3_000,
        served_merchants_bp: 1_500,
        providers: 400,
        certified: 360,
        shelf_bp: 2_500,
        anchor_tiers: [
            AnchorTier { count: 50, band: 0, size: Pareto { min: 1, alpha_x100: 110, max: 1_000 }, share_bp: 2_200 },
            AnchorTier { count: 1_500, band: 1, size: Pareto { min: 1, alpha_x100: 130, max: 200 }, share_bp: 6_600 },
            AnchorTier { count: 6_000, band: 2, size: Pareto { min: 1, alpha_x100: 150, max: 50 }, share_bp: 1_200 },
        ],
        brand_account_band: [1, 1],
        red_packets_fen: 12 * M,
        enrol_bp: 0,
    }
}

/// The largest K of a `1/K` scale.
pub const MAX_UNITS: u64 = 10_000;

/// `full` (K = 1) or `1/K`, K from 1 to [`MAX_UNITS`].
pub fn parse_scale(s: &str) -> Option<u64> {
    if s == "full" {
        return Some(1);
    }
    let k: u64 = s.strip_prefix("1/")?.replace('_', "").parse().ok()?;
    (1..=MAX_UNITS).contains(&k).then_some(k)
}

/// Writes a profile's world at `1/units` to `out`.
pub fn simulate(
    p: &Profile,
    f: &dacu_core::Festival,
    units: u64,
    seed: u64,
    out: impl Write,
    progress: impl FnMut(u64),
) -> io::Result<Written> {
    let plan = plan::Plan::draw(p, f, seed);
    write::write(p, f, &plan, units.clamp(1, MAX_UNITS), seed, out, progress)
}
