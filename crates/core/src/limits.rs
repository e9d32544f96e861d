//! The engine's bounds: on inputs, on every running total, and on the size of one event.
//! docs/commands.md ("Limits") lists them all.
//!
//! Why these numbers: every input amount is bounded, every running total is refused past
//! [`TOTAL`] before it is recorded (`limit_exceeded`), and [`TOTAL`] is about 1/9000 of
//! `i64::MAX`. So a view may add up thousands of totals, or multiply one by 10,000 basis
//! points, without leaving 64 bits.

/// Ids on the wire: 1 to 128 bytes.
pub const ID_BYTES: usize = 128;
/// Idempotency keys as a service records them (its caller's scope and the key): 1 to 512
/// bytes.
pub const KEY_BYTES: usize = 512;
/// Names, categories, reasons: at most 512 bytes.
pub const NAME_BYTES: usize = 512;
/// Lines of one `order_paid`.
pub const ORDER_LINES: usize = 1000;
/// Quantity of one line.
pub const LINE_QTY: i64 = 1_000_000;
/// ¥100,000,000: the most a unit price may be.
pub const UNIT_PRICE_FEN: i64 = 10_000_000_000;
/// An anchor's followers.
pub const FOLLOWERS: i64 = 10_000_000_000;

/// ¥100,000,000,000 (10^13 fen): the most one order may come to (the sum of its lines'
/// `paid`), and the most a cart's list total (Σ qty × price) may be.
pub const ORDER_FEN: i64 = 10_000_000_000_000;

/// 10^15: the most any running total may reach, in its own unit. In fen that is
/// ¥10,000,000,000,000 (¥10 trillion), far above any festival. It bounds the festival's
/// gross GMV (and so every merchant, anchor, provider, session, day and tier total, every
/// board's GMV score and sales, every coupon's GMV), the marketing tools' festival-wide
/// sums (red packets created, lottery prizes offered, discounts held by checkouts, group
/// subsidies), a live session's watch time in milliseconds and a product's quantity, and
/// the settlement ledger's totals per unit (granted and claimed). A command that would
/// take any of them past it is refused with `limit_exceeded` and changes nothing.
pub const TOTAL: i64 = 1_000_000_000_000_000;

/// 10^15 points: the most heat one participant earns on one festival day (a cap, like the
/// festival file's `daily_cap`), so that a window of at most 366 days stays far inside
/// 64 bits.
pub const HEAT_DAY: i64 = TOTAL;

/// 8 MiB: the largest event the engine produces, in the log's encoding (one format byte
/// and the event in postcard). The log refuses records over 16 MiB; every input limit
/// above and below keeps each event under this, and settlement splits its record into
/// parts of at most [`SETTLED_PART_BYTES`].
pub const EVENT_BYTES: usize = 8 << 20;

/// 4 MiB: the budget of one `settled` event. A settlement larger than this (or with more
/// than [`SETTLED_PART_LINES`] ledger lines) is recorded as several `settled` events with
/// the same id; a closed board's frozen order may continue from one part into the next.
pub const SETTLED_PART_BYTES: usize = 4 << 20;

/// Ledger lines per `settled` event, at most.
pub const SETTLED_PART_LINES: usize = 10_000;

/// Limits of the marketing tools ("put a limit on everything").
pub mod market {
    /// ¥100,000,000: the most any amount (off, total, budget, cap) may be.
    pub const AMOUNT_FEN: i64 = 10_000_000_000;
    pub const COUPON_STOCK: i64 = 1_000_000_000;
    pub const PER_USER: i64 = 100;
    pub const SCOPE_SKUS: usize = 1000;
    pub const TIERS: usize = 20;
    /// With ids of up to 128 bytes, the `fullcut_created` event stays below
    /// [`super::EVENT_BYTES`].
    pub const CROSS_MERCHANTS: usize = 50_000;
    pub const GROUP_SIZE: i64 = 100;
    pub const VALID_DAYS: i64 = 366;
    pub const LOTTERY_WINNERS: i64 = 10_000;
    pub const TEXT_BYTES: usize = 256;
    pub const WATCH_S: i64 = 86_400;
}

/// Whether `current + add` stays within `bound`; computed in 128 bits so that neither
/// operand can wrap.
pub fn fits(current: i64, add: i128, bound: i64) -> bool {
    current as i128 + add <= bound as i128
}

/// The default capacity of every table that grows with input, and the most a festival
/// file's `[capacity]` may set (docs/festival.md, "[capacity]"). A command that would add
/// an entry to a full table is refused with the table's own code (`too_many_orders`, …)
/// and changes nothing; what is already recorded keeps working (a known user may still
/// order when no new user fits).
pub mod capacity {
    /// The most any capacity may be: tables are indexed by 32-bit numbers.
    pub const MAX: u64 = 1_000_000_000;
    /// Command ids (the idempotency record of every command that carries an `id`).
    pub const IDS: u64 = 100_000_000;
    /// Distinct users (viewers, buyers, claimers, grabbers).
    pub const USERS: u64 = 50_000_000;
    pub const MERCHANTS: u64 = 1_000_000;
    pub const ANCHORS: u64 = 1_000_000;
    pub const PROVIDERS: u64 = 100_000;
    /// Live sessions.
    pub const SESSIONS: u64 = 1_000_000;
    /// Distinct (session, user) pairs: each session's unique viewers, added up.
    pub const VIEWERS: u64 = 200_000_000;
    /// Orders, paid or waiting for their group to form.
    pub const ORDERS: u64 = 50_000_000;
    /// Refund ids.
    pub const REFUNDS: u64 = 50_000_000;
    /// Distinct SKU ids sold in live sessions.
    pub const PRODUCTS: u64 = 10_000_000;
    /// (anchor, user) follows.
    pub const FOLLOWS: u64 = 100_000_000;
    /// Of each marketing tool: coupons, 满减, price cuts, group deals, red packets, lotteries.
    pub const PROMOTIONS: u64 = 100_000;
    /// (coupon, user) pairs holding a claimed coupon.
    pub const CLAIMS: u64 = 100_000_000;
    /// Groups of group deals.
    pub const GROUPS: u64 = 10_000_000;
    pub const CHECKOUTS: u64 = 50_000_000;
    /// Idempotency keys a service remembers at once (the oldest is forgotten first).
    pub const KEYS: u64 = 10_000_000;
    /// Guaranteed-traffic contracts (the festival file's, programs', grants', make-goods).
    pub const CONTRACTS: u64 = 100_000;
}

/// Impression opportunities one `impression` command may report.
pub const IMPRESSIONS_PER_COMMAND: u64 = 1_000_000_000;
