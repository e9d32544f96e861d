//! Bounds on the festival file's numbers, which the loader (and so `dacu check`) enforces
//! with positioned problems; docs/festival.md ("Limits") lists them. With them, no reward,
//! claim, budget or heat computed from the file can leave 64 bits.

/// Every amount in fen (`budget_fen`, `amount_fen`, `cap_fen`, `target_fen`, `floor_fen`,
/// `min_session_gmv_fen`, `threshold_fen`, `provider_incentive_fen`): 0 to 10^15
/// (¥10 trillion). The tracks' budgets together are bounded by the same figure.
pub const FEN: i64 = crate::limits::TOTAL;
/// A band's `min_value` and a traffic pack's `impressions`: 0 to 10^15.
pub const VALUE: i64 = crate::limits::TOTAL;
/// A rank band's `rank_to`: at most 10^9.
pub const RANK: i64 = 1_000_000_000;
/// Items in one reward band (items of one kind and name add up, so their count bounds the
/// sum).
pub const BAND_ITEMS: usize = 64;
/// Heat coefficients (`gmv_coefficient_bp`, `category_coefficients_bp`): at most
/// 1,000,000 bp, 100 points per yuan.
pub const HEAT_COEFFICIENT_BP: i64 = 1_000_000;
/// Heat points (`live_points`, `viewer_points_per_100`, `interaction_points_per_100`).
pub const HEAT_POINTS: i64 = 1_000_000_000;
/// The announced support multiples (`traffic_multiple`, …).
pub const MULTIPLE: i64 = 1_000_000;
