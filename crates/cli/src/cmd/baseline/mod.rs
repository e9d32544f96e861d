//! The baselines of `dacu bench`: the Redis and PostgreSQL designs a platform team would
//! otherwise build, run on the same workloads as dacu (BENCHMARKS.md describes them).
//!
//! They link a Redis client and a PostgreSQL client with its async runtime, which the
//! engine does not need, so they are built only with the `baselines` feature
//! (`cargo run --release --features baselines -- bench …`). Without it, [`wanted`] refuses
//! a `--baselines` list before a bench starts, with that command line.
//!
//! - [`ingest`](mod@ingest): ZINCRBY/HINCRBY boards in Redis and one transaction per order
//!   in PostgreSQL, beside `bench ingest`.
//! - [`market`](mod@market): the Redis Lua designs for red-packet grabs and coupon claims.
//! - [`boards`](mod@boards): a Redis sorted set beside `bench boards`.
//! - [`settle`](mod@settle): one SQL query that ranks the boards and prices their bands.

#[cfg(feature = "baselines")]
pub mod boards;
#[cfg(feature = "baselines")]
pub mod ingest;
#[cfg(feature = "baselines")]
pub mod market;
#[cfg(feature = "baselines")]
pub mod settle;

#[cfg(feature = "baselines")]
pub use {
    boards::redis_boards,
    ingest::{postgres_ingest, redis_ingest},
    market::{redis_claims, redis_grabs},
    settle::postgres_settle,
};

#[cfg(not(feature = "baselines"))]
pub use off::*;

/// What a baseline run of `bench ingest` measured.
pub struct Run {
    pub name: &'static str,
    pub events: usize,
    pub seconds: f64,
    /// Latency of each unit of work a caller waits for (a pipeline, a transaction), µs.
    pub latency_us: Vec<u64>,
    /// Net GMV the baseline ended with, to check it against dacu's.
    pub gmv: i64,
}

/// The baselines `list` asks `bench NAME` for: a comma-separated list of names from
/// `known`, or `none`. An unknown name is an error, and so is any name in a build without
/// the `baselines` feature: the message says how to build one with them.
pub fn wanted<'a>(list: &'a str, known: &[&'static str], bench: &str) -> anyhow::Result<Vec<&'a str>> {
    let mut names: Vec<&str> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|b| !b.is_empty() && *b != "none") {
        anyhow::ensure!(
            known.contains(&name),
            "unknown baseline `{name}`; `bench {bench}` has: {}, none",
            known.join(", ")
        );
        if !names.contains(&name) {
            names.push(name);
        }
    }
    anyhow::ensure!(
        names.is_empty() || cfg!(feature = "baselines"),
        "this dacu was built without the Redis and PostgreSQL baselines; build and run it with them: \
         cargo run --release --features baselines -- bench {bench} … --baselines {}",
        names.join(",")
    );
    Ok(names)
}

/// Without the feature: the same entry points, each refusing as [`wanted`] does (which
/// every bench calls first, so these are not reached).
#[cfg(not(feature = "baselines"))]
mod off {
    use super::Run;

    fn not_built() -> anyhow::Error {
        anyhow::anyhow!(
            "this dacu was built without the Redis and PostgreSQL baselines; build it with `--features baselines`"
        )
    }

    pub fn redis_ingest(_: &std::path::Path, _: (dacu_core::Ts, dacu_core::Ts)) -> anyhow::Result<Run> {
        Err(not_built())
    }

    pub fn postgres_ingest(_: &std::path::Path, _: (dacu_core::Ts, dacu_core::Ts)) -> anyhow::Result<Run> {
        Err(not_built())
    }

    pub fn redis_grabs(_: u64, _: u64, _: u64) -> anyhow::Result<(f64, f64)> {
        Err(not_built())
    }

    pub fn redis_claims(_: u64) -> anyhow::Result<(f64, f64)> {
        Err(not_built())
    }

    pub fn redis_boards(_: &[i64], _: &[(u32, i64)], _: u64) -> anyhow::Result<(f64, f64, f64)> {
        Err(not_built())
    }

    pub fn postgres_settle(
        _: &dacu_core::Festival,
        _: &dacu_core::state::State,
        _: dacu_core::Ts,
        _: usize,
    ) -> anyhow::Result<(f64, Vec<u64>, i64)> {
        Err(not_built())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_names_known_baselines_or_none() {
        assert!(wanted("none", &["redis"], "grabs").unwrap().is_empty());
        assert!(wanted("", &["redis"], "grabs").unwrap().is_empty());
        let e = wanted("redis,mongo", &["redis", "postgres"], "ingest").unwrap_err().to_string();
        assert_eq!(e, "unknown baseline `mongo`; `bench ingest` has: redis, postgres, none");
        let e = wanted("postgres", &["redis"], "grabs").unwrap_err().to_string();
        assert!(e.contains("`bench grabs` has: redis, none"), "{e}");
    }

    #[test]
    fn a_build_without_the_feature_says_how_to_build_one_with_it() {
        let got = wanted("redis, postgres,redis", &["redis", "postgres"], "ingest");
        if cfg!(feature = "baselines") {
            assert_eq!(got.unwrap(), ["redis", "postgres"]);
        } else {
            let e = got.unwrap_err().to_string();
            assert!(e.contains("cargo run --release --features baselines -- bench ingest"), "{e}");
            assert!(e.ends_with("--baselines redis,postgres"), "{e}");
        }
    }
}
