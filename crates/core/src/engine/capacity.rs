//! The capacities of the tables that grow with input (the festival file's `[capacity]`,
//! defaults in [`crate::limits::capacity`]), checked in `decide` on the events a command
//! would record, before anything is applied. A command that would add an entry to a full
//! table is refused with that table's code and changes nothing.
//!
//! Each check is O(1) per event: a table's size is the length of its map or interner, and
//! an entry counts as new only when its key is not there yet, so what is already recorded
//! keeps working at capacity (a known user may still order, a known viewer re-enter).

use super::{ids, reject, Engine};
use crate::error::{Code, Rejection};
use crate::event::Event;

/// What one command would add to each table (new keys borrowed from its events).
#[derive(Default)]
struct Adds<'e> {
    ids: u64,
    users: Vec<&'e str>,
    merchants: u64,
    anchors: u64,
    providers: u64,
    sessions: u64,
    viewers: u64,
    orders: u64,
    refunds: u64,
    products: Vec<&'e str>,
    follows: u64,
    promotions: [u64; 6],
    claims: u64,
    groups: u64,
    checkouts: u64,
    contracts: u64,
}

const TOOLS: [&str; 6] = ["coupons", "满减", "price cuts", "group deals", "red packets", "lotteries"];

impl Engine {
    pub(super) fn check_capacity(&self, events: &[Event]) -> Result<(), Rejection> {
        let mut a = Adds::default();
        for ev in events {
            self.count(ev, &mut a);
        }
        let st = &self.state;
        let m = &st.market;
        let cap = &self.festival.capacity;
        a.users.sort_unstable();
        a.users.dedup();
        a.products.sort_unstable();
        a.products.dedup();
        let orders = (st.orders.len() + m.pending_orders.len()) as u64;
        let tools = [
            m.coupon_ids.len(),
            m.fullcut_ids.len(),
            m.cut_ids.len(),
            m.deal_ids.len(),
            m.packet_ids.len(),
            m.lottery_ids.len(),
        ];
        let contracts = st.traffic.contracts.len() as u64;
        let rows: [(Code, &str, u64, u64, u64); 15] = [
            (Code::TooManyIds, "command ids", m.command_ids.len(), a.ids, cap.ids),
            (Code::TooManyUsers, "users", st.users.len() as u64, a.users.len() as u64, cap.users),
            (Code::TooManyParticipants, "merchants", st.merchants.len() as u64, a.merchants, cap.merchants),
            (Code::TooManyParticipants, "anchors", st.anchors.len() as u64, a.anchors, cap.anchors),
            (Code::TooManyParticipants, "providers", st.providers.len() as u64, a.providers, cap.providers),
            (Code::TooManySessions, "live sessions", st.sessions.len() as u64, a.sessions, cap.sessions),
            (Code::TooManyViewers, "(session, user) viewer pairs", st.viewer_pairs, a.viewers, cap.viewers),
            (Code::TooManyOrders, "orders", orders, a.orders, cap.orders),
            (Code::TooManyRefunds, "refund ids", st.refund_ids.len() as u64, a.refunds, cap.refunds),
            (Code::TooManyProducts, "SKUs sold live", st.skus.len() as u64, a.products.len() as u64, cap.products),
            (Code::TooManyFollows, "follows", m.follows.len() as u64, a.follows, cap.follows),
            (Code::TooManyClaims, "(coupon, user) claims", m.claims.len() as u64, a.claims, cap.claims),
            (Code::TooManyGroups, "groups", m.groups.len() as u64, a.groups, cap.groups),
            (Code::TooManyCheckouts, "checkouts", m.checkouts.len() as u64, a.checkouts, cap.checkouts),
            (Code::TooManyContracts, "traffic contracts", contracts, a.contracts, cap.contracts),
        ];
        for (code, what, len, add, cap) in rows {
            full(code, what, len, add, cap)?;
        }
        for (i, tool) in TOOLS.iter().enumerate() {
            full(Code::TooManyPromotions, tool, tools[i] as u64, a.promotions[i], cap.promotions)?;
        }
        Ok(())
    }

    /// Adds to `a` the entries `ev` would create that the state does not hold yet.
    fn count<'e>(&self, ev: &'e Event, a: &mut Adds<'e>) {
        let st = &self.state;
        let m = &st.market;
        if let Some((id, _)) = ids::event_id(ev) {
            a.ids += u64::from(m.command_ids.get(id).is_none());
        }
        if let Some(u) = user_of(ev) {
            if st.users.get(u).is_none() {
                a.users.push(u);
            }
        }
        match ev {
            Event::MerchantRegistered { .. } => a.merchants += 1,
            Event::AnchorRegistered { .. } => a.anchors += 1,
            Event::ProviderRegistered { .. } => a.providers += 1,
            Event::LiveStarted { .. } => a.sessions += 1,
            Event::ViewerEntered { session, user, .. } => {
                let s = st.session_ids.get(session);
                let seen =
                    s.zip(st.users.get(user)).is_some_and(|(s, u)| st.sessions[s as usize].unique_viewers.contains(u));
                a.viewers += u64::from(!seen);
            }
            Event::OrderPaid { order, session, lines, .. } => {
                // An order of a group was counted when it joined the group.
                a.orders += u64::from(!m.pending_orders.contains(order.as_str()));
                if session.is_some() {
                    a.products.extend(lines.iter().filter(|l| st.skus.get(&l.sku).is_none()).map(|l| l.sku.as_str()));
                }
            }
            Event::GroupOpened { .. } => {
                a.groups += 1;
                a.orders += 1;
            }
            Event::GroupJoined { .. } => a.orders += 1,
            Event::Refunded { refund_id, .. } => a.refunds += u64::from(refund_id.is_some()),
            Event::Followed { anchor, user, .. } => {
                let pair = st.anchor_ids.get(anchor).zip(st.users.get(user));
                a.follows += u64::from(!pair.is_some_and(|p| m.follows.contains_key(&p)));
            }
            Event::CouponClaimed { coupon, user, .. } => {
                let pair = m.coupon_ids.get(coupon).zip(st.users.get(user));
                a.claims += u64::from(!pair.is_some_and(|p| m.claims.contains_key(&p)));
            }
            Event::CouponCreated(..) => a.promotions[0] += 1,
            Event::FullcutCreated(..) => a.promotions[1] += 1,
            Event::PriceCutCreated(..) => a.promotions[2] += 1,
            Event::GroupDealCreated(..) => a.promotions[3] += 1,
            Event::RedPacketCreated { .. } | Event::RedPacketCommitted { .. } => a.promotions[4] += 1,
            Event::LotteryCreated { .. } => a.promotions[5] += 1,
            Event::CheckoutReserved { .. } => a.checkouts += 1,
            Event::ContractCreated(..) => a.contracts += 1,
            _ => {}
        }
    }
}

/// The user an event may add to the users' table.
fn user_of(ev: &Event) -> Option<&str> {
    match ev {
        Event::ViewerEntered { user, .. }
        | Event::Interacted { user, .. }
        | Event::OrderPaid { user, .. }
        | Event::Followed { user, .. }
        | Event::Commented { user, .. }
        | Event::CouponClaimed { user, .. }
        | Event::GroupOpened { user, .. }
        | Event::GroupJoined { user, .. }
        | Event::RedPacketGrabbed { user, .. }
        | Event::CheckoutReserved { user, .. } => Some(user),
        _ => None,
    }
}

impl Engine {
    /// Contracts the table has room for: a settlement's grants and a tick's make-goods
    /// take only this many (the rest are owed), so that a full table never blocks them.
    pub(super) fn contract_room(&self) -> u64 {
        self.festival.capacity.contracts.saturating_sub(self.state.traffic.contracts.len() as u64)
    }
}

fn full(code: Code, what: &str, len: u64, add: u64, cap: u64) -> Result<(), Rejection> {
    if add == 0 || len.saturating_add(add) <= cap {
        return Ok(());
    }
    reject(
        code,
        format!(
            "the festival holds {len} {what} and this command would add {add}; its `[capacity]` allows {cap}, so nothing new of this kind is accepted"
        ),
    )
}
