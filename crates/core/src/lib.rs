//! dacu-core: the pure, deterministic heart of dacu.
//!
//! ```text
//! command (+ recorded time) ──decide──▶ events ──apply──▶ state ──▶ views
//! ```
//!
//! The modules, by layer (docs/architecture.md, "Layers"; `tests/layering.rs` checks it):
//!
//! - Leaves, which use only each other: [`time`] and [`money`] (recorded time, integer
//!   fen), [`error`] (the one table of rejection codes and their kinds), [`hash`] (the
//!   seeded hash maps, and why their seed cannot reach output), [`limits`] (the bounds on
//!   inputs, running totals and event sizes), [`intern`] (ids to dense indexes), [`users`] (sets of them),
//!   [`kinds`] (the small enums everything shares), [`party`] (who issues or bears a
//!   promotion), [`promo`] (the checkable algorithms: red-packet splits, lottery draws)
//!   , `market::quote` (the checkout price search) and [`idempotency`] (what a service
//!   answered to each idempotency key).
//! - The event schema: [`event`] (the durable facts the engine records, and every record
//!   they carry), which uses leaves only, so that no command or domain type is part of
//!   the log's format.
//! - The domain: [`festival`] (the festival file — model, loader, positioned problems),
//!   [`command`] (the wire commands, one JSON object per line), [`market`] (the marketing
//!   tools' state), [`contest`]
//!   (ranking contests, challenges and the heat value, kept live), [`settle`]
//!   (settlement: payouts within budgets, clawbacks, the ledger), [`traffic`]
//!   (guaranteed traffic: the HWM planner and the serving rule, docs/traffic.md) and
//!   [`state`] (entities and running totals, holding the marketing tools, the races and
//!   the ledger).
//! - The engine: [`engine`] — `decide` (validate → events) and `apply` (events → state).
//! - Readers: [`view`] (read models for `show` and `report`), [`review`] (the live-session
//!   review, 复盘), [`digest`] (the canonical state digest that proves replay equals live
//!   state), [`check`] (the consistency checks of a state read from a snapshot), [`html`]
//!   (the festival report as one self-contained HTML page), and the
//!   views of the tools, races and ledger (`market::view`, `contest::view`,
//!   `settle::view`).
//!
//! Nothing here reads a clock, does I/O, spawns threads or draws unseeded randomness. The
//! one exception, the hash maps' random seed, only places entries in memory ([`hash`]).
//! `crates/core/clippy.toml` makes clippy refuse clock and OS-randomness calls here.

pub mod check;
pub mod command;
pub mod contest;
pub mod curve;
pub mod digest;
pub mod engine;
pub mod error;
pub mod event;
pub mod festival;
pub mod figures;
pub mod hash;
mod hex;
pub mod html;
pub mod idempotency;
pub mod intern;
pub mod kinds;
pub mod limits;
pub mod market;
pub mod money;
pub mod party;
pub mod promo;
pub mod review;
pub mod settle;
pub mod small_map;
pub mod state;
pub mod time;
pub mod traffic;
pub mod users;
pub mod view;
pub mod watch;

pub use command::{parse_line, Command};
pub use engine::Engine;
pub use error::{Code, Kind, Rejection};
pub use event::Event;
pub use festival::Festival;
pub use hex::hex;
pub use money::Fen;
pub use time::{Day, Ts};
