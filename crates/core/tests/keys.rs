//! Idempotency keys in the engine's state: never more than the capacity, never an expired
//! answer, the newest keys always remembered, and a replay of the recorded events forgets
//! exactly what the live engine forgot (same digest).

use dacu_core::digest::digest;
use dacu_core::idempotency::KeyOutcome;
use dacu_core::{festival, Engine, Event, Ts};
use proptest::prelude::*;
use std::sync::Arc;

fn engine(cap: u64) -> Engine {
    let toml = format!(
        "[festival]\nid = \"k\"\nname_zh = \"k\"\nname_en = \"k\"\nstart = 2021-11-01\nend = 2021-11-08\n[registration]\nopens = 2021-11-01\ncloses = 2021-11-08\n[capacity]\nkeys = {cap}\n"
    );
    Engine::new(Arc::new(festival::parse(&toml).expect("valid")))
}

proptest! {
    #[test]
    fn keys_are_bounded_fresh_and_replayable(
        cap in 1u64..8,
        steps in prop::collection::vec((0u8..12, 0i64..50, 1i64..200), 1..120),
    ) {
        let mut e = engine(cap);
        let mut log: Vec<Event> = Vec::new();
        // (key, at, expires_at) of every record made, oldest first.
        let mut made: Vec<(String, Ts, Ts)> = Vec::new();
        let mut now = Ts(1_000);
        for (k, dt, window) in steps {
            now = Ts(now.0 + dt);
            let key = format!("tok:{k}");
            let fp = format!("{:064x}", k);
            if e.state().keys.get(&key, now).is_some() {
                // The writer replays a live key rather than recording it again.
                let mut out = Vec::new();
                prop_assert!(e.decide_key(&key, &fp, Vec::new(), Ts(now.0 + window), now, &mut out).is_err());
                continue;
            }
            let outcomes = vec![KeyOutcome::Accepted { first_seq: 1, last_seq: 0 }];
            let mut out = Vec::new();
            e.decide_key(&key, &fp, outcomes, Ts(now.0 + window), now, &mut out).expect("a fresh key is recorded");
            for ev in &out {
                e.apply(ev).expect("applies");
            }
            log.extend(out);
            made.push((key, now, Ts(now.0 + window)));

            let keys = &e.state().keys;
            prop_assert!(keys.len() as u64 <= cap, "{} keys over capacity {cap}", keys.len());
            // Never an expired answer.
            for (k, _, _) in &made {
                if let Some(r) = keys.get(k, now) {
                    prop_assert!(r.expires_at > now);
                }
            }
            // The newest `cap` records that are still unexpired are all remembered.
            for (k, at, exp) in made.iter().rev().take(cap as usize) {
                if *exp > now {
                    let r = keys.get(k, now);
                    prop_assert!(r.is_some_and(|r| r.at == *at), "key {k} of {at} forgotten early");
                }
            }
        }
        // Replay: a new engine applying the recorded events reaches the same state.
        let mut replayed = engine(cap);
        for ev in &log {
            replayed.apply(ev).expect("applies");
        }
        prop_assert_eq!(digest(replayed.state()), digest(e.state()));
    }
}
