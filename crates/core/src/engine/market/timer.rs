//! Ticks: the engine has no clock, so a `tick` fires every timer due by its `at`, in
//! (due time, kind, index) order — a checkout's payment deadline, a group's deadline, a
//! red packet's expiry, a lottery's draw — each by its tool, with the deadline's own
//! time, and then records `ticked`. Applying what fires removes the timer.

use crate::command as cmd;
use crate::engine::Engine;
use crate::error::Rejection;
use crate::event::Event;
use crate::market::timer;

impl Engine {
    pub(in crate::engine) fn decide_tick(&self, k: &cmd::Tick, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let m = &self.state.market;
        for &(due, kind, i) in m.timers.range(..=(k.at, u8::MAX, u32::MAX)) {
            let fired = match kind {
                timer::CHECKOUT => self.checkout_due(i, due),
                timer::GROUP => self.group_due(i, due),
                timer::PACKET => self.packet_due(i, due),
                _ => self.lottery_due(i, due),
            };
            out.extend(fired);
        }
        // Guaranteed traffic: windows that ended close, and the plan is made again if due.
        self.traffic_tick(k.at, out);
        out.push(Event::Ticked { id: k.id.clone(), at: k.at });
        Ok(())
    }
}
