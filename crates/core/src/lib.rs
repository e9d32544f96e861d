//! dacu-core: the pure, deterministic heart of dacu.
//!
//! ```text
//! command (+ recorded time) ──decide──▶ events ──apply──▶ state ──▶ views
//! ```
//!
//! - [`festival`]: the festival file — model, loader, positioned problems.
//! - [`command`]: the wire commands, one JSON object per line.
//! - [`event`]: the durable facts the engine records.
//! - [`engine`]: `decide` (validate → events) and `apply` (events → state).
//! - [`state`]: entities and running totals.
//! - [`view`]: read models for `show` and `report`.
//! - [`review`]: the live-session review (复盘) for `dacu review`.
//! - [`digest`]: the canonical state digest that proves replay equals live state.
//! - [`error`]: the one table of rejection codes and their kinds.
//! - [`check`]: the consistency checks of a state read from a snapshot.
//! - [`hash`]: the seeded hash maps of the state, and why their seed cannot reach output.
//! - [`limits`]: the bounds on inputs, running totals and event sizes.
//! - [`settle`]: settlement — payouts within budgets, clawbacks, the ledger, explanations.
//! - [`contest`]: ranking contests, challenges and the heat value, kept live.
//! - [`market`]: the marketing tools' state and the checkout price search.
//! - [`promo`]: the marketing tools' checkable algorithms (red-packet splits, lottery draws).
//! - [`money`], [`time`]: integer fen and recorded time.
//!
//! Nothing here reads a clock, does I/O, spawns threads or draws unseeded randomness. The
//! one exception, the hash maps' random seed, only places entries in memory ([`hash`]).
//! `crates/core/clippy.toml` makes clippy refuse clock and OS-randomness calls here.

pub mod check;
pub mod command;
pub mod contest;
pub mod digest;
pub mod engine;
pub mod error;
pub mod event;
pub mod festival;
pub mod hash;
pub mod intern;
pub mod kinds;
pub mod limits;
pub mod market;
pub mod money;
pub mod party;
pub mod promo;
pub mod review;
pub mod settle;
pub mod state;
pub mod time;
pub mod view;

pub use command::{parse_line, Command};
pub use engine::Engine;
pub use error::{Code, Kind, Rejection};
pub use event::Event;
pub use festival::Festival;
pub use money::Fen;
pub use time::{Day, Ts};
