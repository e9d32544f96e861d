//! Impression opportunities: every supply node of the festival's `[traffic]` (slot ×
//! hour × segment), one `impression` batch each, its count the node's forecast moved by
//! a forecast error drawn per slot and hour, so that plans meet the supply that really
//! arrives (docs/simulator.md, "A day's activity"). Each carries the id `imp‹node›`, so a
//! re-ingest after a crash counts none twice.

use crate::rng::Rng;
use dacu_core::festival::traffic::Grid;
use dacu_core::festival::Festival;
use dacu_core::time::{Day, Ts};
use std::io::{self, Write};

/// The simulated supply of one festival.
pub struct Supply {
    grid: Grid,
    slots: Vec<String>,
    segments: Vec<String>,
    /// The largest forecast error, in percent either way.
    error_pct: i64,
    rng: Rng,
}

impl Supply {
    /// None when the festival has no `[traffic]`. Its own random stream, so that adding
    /// traffic changes nothing else the simulator draws.
    pub fn new(f: &Festival, seed: u64, error_pct: u64) -> Option<Supply> {
        let t = f.traffic.as_ref()?;
        Some(Supply {
            grid: Grid::new(f, t),
            slots: t.slots.iter().map(|s| s.id.clone()).collect(),
            segments: t.segments.iter().map(|s| s.id.clone()).collect(),
            error_pct: error_pct.min(100) as i64,
            rng: Rng::new(seed ^ 0x7472_6166_6669_6321),
        })
    }

    /// Writes the day's opportunities, hour by hour; returns the lines written.
    pub fn day(&mut self, day: Day, out: &mut impl Write) -> io::Result<u64> {
        let mut lines = 0;
        for h in 0..24 {
            let at = Ts::start_of(day).plus_ms(h * 3_600_000 + 10 * 60_000);
            let Some(hour) = self.grid.hour_of(at) else { continue };
            for slot in 0..self.grid.slots {
                let err = self.rng.range(-self.error_pct, self.error_pct + 1);
                for seg in 0..self.grid.segments {
                    let forecast = self.grid.forecast(self.grid.node(hour, slot, seg));
                    let count = (i128::from(forecast) * i128::from(100 + err) / 100).max(0) as u64;
                    if count == 0 {
                        continue;
                    }
                    writeln!(
                        out,
                        r#"{{"type":"impression","id":"imp{}","slot":"{}","segment":"{}","count":{count},"at":"{}"}}"#,
                        self.grid.node(hour, slot, seg),
                        self.slots[slot as usize],
                        self.segments[seg as usize],
                        at
                    )?;
                    lines += 1;
                }
            }
        }
        Ok(lines)
    }
}
