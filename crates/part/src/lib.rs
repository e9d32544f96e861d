//! dacu-part: partitions (docs/scale-out.md, "Partitions").
//!
//! - [`route`]: the key of every command and the partition of a key (FNV-1a-32 mod N,
//!   as NATS's subject mapping computes it).
//! - [`escrow`]: the coordinator's slabs of global stock, and the log of grants and
//!   returns that proves nothing is handed out beyond a total.
//! - [`partition`]: one partition (a whole engine and the slabs it holds), and N of them
//!   executed in one thread — the reference for what partitioned execution decides — with
//!   the router's records and each partition's log.
//! - `projection`: the logs merged into one engine (reads, and the settlement decided on
//!   it), kept between settlements so that each applies only what the logs gained.
//! - [`router`]: the router's records of where each session, red packet and paid order
//!   lives.
//! - `tick`: a `tick` broadcast to every partition, each firing its own timers (its red
//!   packets' expiries) once, and what every partition decides alike given once.
//! - [`merge`]: figures summed over the partitions (a merchant's, anchor's or provider's
//!   sales and buyers).
//! - [`cluster`]: the partitions running at once, one thread each.
//! - [`boards`]: a GMV board merged from the partitions' partials, without a projection.
//! - [`durable`]: each partition's log in a data directory of its own, and recovery.
//!
//! What is partitioned so far ([`partition::SUPPORTED`]): the registrations and bindings,
//! contest entries, coupons for everyone, follows (in the anchor's partition) and claims,
//! live rooms, red packets and their grabs, ticks, orders, refunds and settlement; the other
//! commands are refused with [`partition::Unsupported`] until their partitioning
//! (designed in docs/scale-out.md) is built.

pub mod boards;
pub mod cluster;
pub mod durable;
pub mod escrow;
pub mod merge;
pub mod partition;
pub(crate) mod projection;
pub mod route;
pub mod router;
pub(crate) mod tick;

pub use cluster::{Answer, Cluster};
pub use partition::{Partitioned, Unsupported};
