//! A `tick`, broadcast: every partition fires its own timers (docs/scale-out.md,
//! "Partitions").
//!
//! The timers partitions hold are red packets' expiries, each in its packet's partition
//! only (a packet is created and held where its session lives), so each expiry, and the
//! return of what was not grabbed, is decided and logged once. What a tick decides
//! beyond timers — guaranteed traffic's contracts and plan — reads state every partition
//! holds alike (the festival file, the definitions, the ticks), so every partition
//! decides the same events: each applies its own, the answer and the log give partition
//! 0's once, and so does the `ticked` that records the command's id.
//!
//! Every partition decides the tick before any applies it, so that one refusal (its id
//! used by another command, which only that command's partition knows) leaves every
//! partition as it was; the refusal is the lowest partition's.

use crate::partition::Partitioned;
use crate::router::Router;
use dacu_core::{Command, Event, Rejection};

/// Whether an event is the partition's own timer firing, as against what every partition
/// decides alike.
fn own_timer(e: &Event) -> bool {
    matches!(e, Event::RedPacketExpired { .. })
}

/// A partition's own timers among the events it decided for a tick.
pub(crate) fn own(events: &[Event]) -> Vec<Event> {
    events.iter().filter(|e| own_timer(e)).cloned().collect()
}

fn alike(events: &[Event]) -> impl Iterator<Item = &Event> + '_ {
    events.iter().filter(|e| !own_timer(e))
}

/// The single writer's answer to a tick every partition decided (`decided`, by
/// partition): the expiries in the order it fires them (due time, then the order the
/// packets were created in), then what every partition decided alike, once.
pub(crate) fn answer(decided: &[Vec<Event>], router: &Router) -> Vec<Event> {
    for (p, d) in decided.iter().enumerate().skip(1) {
        assert!(
            alike(d).eq(alike(&decided[0])),
            "partition {p} decided a tick's shared part otherwise than partition 0"
        );
    }
    let mut fired: Vec<(dacu_core::Ts, u64, Event)> = decided
        .iter()
        .flat_map(|d| d.iter())
        .filter_map(|e| match e {
            Event::RedPacketExpired { packet, at, .. } => {
                let seq = router
                    .packets
                    .get(packet)
                    .unwrap_or_else(|| panic!("an expiring packet was routed: {packet} among {}", router.packets.len()))
                    .seq;
                Some((*at, seq, e.clone()))
            }
            _ => None,
        })
        .collect();
    fired.sort_by_key(|(at, seq, _)| (*at, *seq));
    let mut out: Vec<Event> = fired.into_iter().map(|(_, _, e)| e).collect();
    out.extend(decided.first().map_or(&[][..], Vec::as_slice).iter().filter(|e| !own_timer(e)).cloned());
    out
}

impl Partitioned {
    /// Decides the tick in every partition, then applies it in each; partition 0 logs
    /// all it decided, the others their own timers.
    pub(crate) fn tick(&mut self, c: &Command) -> Result<Vec<Event>, Rejection> {
        let decided = self.parts.iter().map(|p| p.decide(c)).collect::<Result<Vec<_>, _>>()?;
        for (part, events) in self.parts.iter_mut().zip(&decided) {
            part.apply_decided(events);
            part.record_tick(self.recording, c.at(), events);
        }
        Ok(answer(&decided, &self.router))
    }
}
