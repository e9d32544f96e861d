//! Item price cuts (直降): so many fen off each unit of one sku — decide and apply.

use super::{amount, dup, window};
use crate::command as cmd;
use crate::engine::{check_id, idx, Applied, Engine};
use crate::error::Rejection;
use crate::event::{Event, PriceCutDef};
use crate::market::{Budget, PriceCut};
use crate::money::Fen;
use crate::state::State;

impl Engine {
    pub(in crate::engine) fn decide_create_price_cut(
        &self,
        k: &cmd::CreatePriceCut,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("cut", &k.cut)?;
        check_id("sku", &k.sku)?;
        self.in_festival(k.at)?;
        if self.state.market.cut_ids.get(&k.cut).is_some() {
            return Err(dup("price cut", &k.cut));
        }
        self.merchant_idx(&k.merchant)?;
        amount("off", k.off, 1)?;
        window("start", k.start, "end", k.end)?;
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        out.push(Event::PriceCutCreated(PriceCutDef::from(k)));
        Ok(())
    }
}

pub(in crate::engine) fn created(st: &mut State, k: &PriceCutDef) -> Applied {
    let mi = idx(&st.merchant_ids, &k.merchant, "merchant")?;
    let c = st.market.cut_ids.intern(&k.cut);
    st.market.cuts_by_sku.entry((mi, k.sku.as_str().into())).or_default().push(c);
    st.market.cuts.push(PriceCut {
        merchant: mi,
        sku: k.sku.clone(),
        off_unit: Fen(k.off),
        start: k.start,
        end: k.end,
        budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
    });
    Ok(())
}
