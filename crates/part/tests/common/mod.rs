//! What the partition tests share: the mini festival and its simulated commands.

use dacu_core::{festival, parse_line, Command, Festival};
use std::sync::Arc;

pub const MINI: &str = include_str!("../../../../festivals/example-mini.toml");

pub fn mini() -> Arc<Festival> {
    Arc::new(festival::parse(MINI).expect("valid"))
}

/// The simulated festival's partitionable commands in time order (those without a time,
/// registrations, first), with a settlement after the first phase and one after the
/// festival.
pub fn festival_commands(f: &Festival) -> Vec<Command> {
    let mut buf = Vec::new();
    dacu_sim::simulate(f, dacu_sim::Scale::Commands(30_000), 3, &mut buf).unwrap();
    let mut probe = dacu_part::router::Router::new(1);
    let mut cmds: Vec<Command> = String::from_utf8(buf)
        .unwrap()
        .lines()
        .filter_map(|l| parse_line(l).ok())
        .filter(|c| probe.route(c, true).is_ok())
        .collect();
    cmds.push(parse_line(r#"{"type":"settle","id":"mid","at":"2021-11-05T00:00:00+08:00"}"#).unwrap());
    cmds.sort_by_key(|c| c.at().unwrap_or(dacu_core::Ts(i64::MIN)));
    cmds.push(parse_line(r#"{"type":"settle","id":"final","at":"2021-11-08T00:00:00+08:00"}"#).unwrap());
    cmds
}
