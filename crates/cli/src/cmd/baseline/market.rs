//! The Redis Lua designs beside `dacu bench grabs|claims` (crate::cmd::bench_market), and
//! the pipelining they and `bench boards` share.

use std::time::Instant;

/// Sends `count` commands built by `add(pipe, i)`, 1,000 per pipeline; the seconds taken.
pub fn pipelined(
    con: &mut redis::Connection,
    count: u64,
    mut add: impl FnMut(&mut redis::Pipeline, u64),
) -> anyhow::Result<f64> {
    let t0 = Instant::now();
    let mut done = 0;
    while done < count {
        let n = 1000.min(count - done);
        let mut pipe = redis::pipe();
        for i in done..done + n {
            add(&mut pipe, i);
        }
        pipe.exec(con)?;
        done += n;
    }
    Ok(t0.elapsed().as_secs_f64())
}

const GRAB_LUA: &str = r#"
-- KEYS[1] shares list, KEYS[2] grabbers set, KEYS[3] wallet hash; ARGV[1] user
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -1 end
local a = redis.call('LPOP', KEYS[1])
if not a then return -2 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[1], a)
return tonumber(a)
"#;

pub fn redis_grabs(count: u64, viewers: u64, packets: u64) -> anyhow::Result<(f64, f64)> {
    let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    let mut con = client.get_connection()?;
    redis::cmd("FLUSHDB").exec(&mut con)?;
    // The same shares as the engine splits, pushed (untimed).
    for p in 0..packets {
        let shares = dacu_core::promo::redpacket::split(
            dacu_core::Fen((viewers * 200) as i64),
            viewers as u32,
            dacu_core::promo::redpacket::Method::DoubleMean,
            p, // the seed each packet was created with
        )?;
        for chunk in shares.chunks(10_000) {
            let v: Vec<i64> = chunk.iter().map(|f| f.0).collect();
            redis::cmd("RPUSH").arg(format!("rp:{p}:shares")).arg(v).exec(&mut con)?;
        }
    }
    let script = redis::Script::new(GRAB_LUA);
    let _: i64 = script.key("warm:s").key("warm:g").key("warm:w").arg("x").invoke(&mut con)?;
    let hash = script.get_hash().to_string();
    let secs = pipelined(&mut con, count, |pipe, i| {
        let (p, u) = (i / viewers, i % viewers);
        pipe.cmd("EVALSHA")
            .arg(&hash)
            .arg(3)
            .arg(format!("rp:{p}:shares"))
            .arg(format!("rp:{p}:grabbers"))
            .arg("wallet")
            .arg(format!("u{u}"))
            .ignore();
    })?;
    let left: i64 = redis::cmd("LLEN").arg("rp:0:shares").query(&mut con)?;
    anyhow::ensure!(count < viewers || left == 0, "redis grabs left {left} shares");
    Ok((secs, count as f64 / secs))
}

const CLAIM_LUA: &str = r#"
-- KEYS[1] stock, KEYS[2] per-user claims hash, KEYS[3] the user's wallet list
-- ARGV[1] user, ARGV[2] per-user limit, ARGV[3] coupon
local had = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if had >= tonumber(ARGV[2]) then return -1 end
if tonumber(redis.call('GET', KEYS[1]) or '0') <= 0 then return -2 end
redis.call('DECR', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('RPUSH', KEYS[3], ARGV[3])
return 1
"#;

pub fn redis_claims(count: u64) -> anyhow::Result<(f64, f64)> {
    let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    let mut con = client.get_connection()?;
    redis::cmd("FLUSHDB").exec(&mut con)?;
    redis::cmd("SET").arg("coupon:p20:stock").arg(count).exec(&mut con)?;
    let script = redis::Script::new(CLAIM_LUA);
    let _: i64 = script.key("warm:stock").key("warm:c").key("warm:w").arg("x").arg(1).arg("p").invoke(&mut con)?;
    let hash = script.get_hash().to_string();
    let secs = pipelined(&mut con, count, |pipe, i| {
        pipe.cmd("EVALSHA")
            .arg(&hash)
            .arg(3)
            .arg("coupon:p20:stock")
            .arg("coupon:p20:claims")
            .arg(format!("wallet:u{i}"))
            .arg(format!("u{i}"))
            .arg(1)
            .arg("p20")
            .ignore();
    })?;
    let stock: i64 = redis::cmd("GET").arg("coupon:p20:stock").query(&mut con)?;
    anyhow::ensure!(stock == 0, "redis claims left stock {stock}");
    Ok((secs, count as f64 / secs))
}
