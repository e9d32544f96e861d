//! 拼团 group deals: a deal (a sku at a group price for groups of a size), groups opened
//! and joined, a group that fills forming (its members' orders are paid) and one whose
//! time runs out failing at a tick — decide and apply.

use super::{amount, dup, unknown, window};
use crate::command as cmd;
use crate::engine::bounds::within;
use crate::engine::{check_id, idx, limits, opt_idx, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, GroupDealDef, LineRec};
use crate::kinds::Channel;
use crate::limits::market as ml;
use crate::market::{timer, Budget, Group, GroupDeal, GroupState, Market, Member};
use crate::money::Fen;
use crate::state::State;
use crate::time::Ts;

impl Engine {
    pub(in crate::engine) fn decide_create_group_deal(
        &self,
        k: &cmd::CreateGroupDeal,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        check_id("deal", &k.deal)?;
        check_id("sku", &k.sku)?;
        self.in_festival(k.at)?;
        if self.state.market.deal_ids.get(&k.deal).is_some() {
            return Err(dup("group deal", &k.deal));
        }
        self.merchant_idx(&k.merchant)?;
        amount("price", k.price, 1)?;
        if !(1..=k.price).contains(&k.group_price) {
            return reject(
                Code::InvalidValue,
                format!("`group_price` must be 1 to `price` ({}) fen, got {}", k.price, k.group_price),
            );
        }
        if !(2..=ml::GROUP_SIZE).contains(&k.size) {
            return reject(
                Code::InvalidValue,
                format!("`size` must be 2 to {} members, got {}", ml::GROUP_SIZE, k.size),
            );
        }
        if let Some(t) = k.time_limit_s {
            if !(60..=30 * 86_400).contains(&t) {
                return reject(Code::InvalidValue, format!("`time_limit_s` must be 60 to 2592000 seconds, got {t}"));
            }
        }
        window("start", k.start, "end", k.end)?;
        if let Some(b) = k.budget {
            amount("budget", b, 1)?;
        }
        // A deal without its own time limit takes the festival's (`[checkout]`), now.
        out.push(Event::GroupDealCreated(GroupDealDef {
            id: k.id.clone(),
            deal: k.deal.clone(),
            merchant: k.merchant.clone(),
            sku: k.sku.clone(),
            price: k.price,
            group_price: k.group_price,
            size: k.size,
            time_limit_s: k.time_limit_s.unwrap_or(self.festival.checkout.group_time_limit_s),
            start: k.start,
            end: k.end,
            budget: k.budget,
            at: k.at,
        }));
        Ok(())
    }

    fn deal_idx(&self, id: &str) -> Result<u32, Rejection> {
        self.state.market.deal_ids.get(id).ok_or_else(|| unknown("group deal", id))
    }

    /// A group's deadline is decided when it opens: the deal's time limit from now.
    pub(in crate::engine) fn decide_open_group(
        &self,
        k: &cmd::OpenGroup,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("group", &k.group)?;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        if st.market.group_ids.get(&k.group).is_some() {
            return Err(dup("group", &k.group));
        }
        let di = self.deal_idx(&k.deal)?;
        let d = &st.market.deals[di as usize];
        if k.at < d.start {
            return reject(Code::PromotionNotActive, format!("group deal `{}` starts at {}", k.deal, d.start));
        }
        if k.at >= d.end {
            return reject(Code::PromotionEnded, format!("group deal `{}` ended at {}", k.deal, d.end));
        }
        self.check_member(di, &k.user)?;
        self.check_new_order(&k.order)?;
        let channel = if k.session.is_some() { Channel::Live } else { Channel::Shelf };
        if let Some(s) = &k.session {
            self.live_session(s, k.at)?;
        }
        // A group can only open if the budget can carry it full.
        self.check_deal_budget(d, d.size as i64)?;
        out.push(Event::GroupOpened {
            id: k.id.clone(),
            group: k.group.clone(),
            deal: k.deal.clone(),
            user: k.user.clone(),
            order: k.order.clone(),
            channel,
            session: k.session.clone(),
            deadline: Ts(k.at.0 + d.limit_ms),
            at: k.at,
        });
        Ok(())
    }

    fn check_member(&self, di: u32, user: &str) -> Result<(), Rejection> {
        let st = &self.state;
        if st.users.get(user).is_some_and(|u| st.market.group_members.contains(&(di, u))) {
            return reject(
                Code::LimitReached,
                format!(
                    "user `{user}` already joined a group of deal `{}`; a user joins once",
                    st.market.deal_ids.name(di)
                ),
            );
        }
        Ok(())
    }

    fn check_deal_budget(&self, d: &GroupDeal, members: i64) -> Result<(), Rejection> {
        let per = (d.price - d.group_price).0;
        // Each member joining holds `per` of subsidy; the festival's total stays bounded.
        let held = self.state.market.totals.subsidies_fen;
        within("the group-price subsidies held or given", "fen", held, per as i128, limits::TOTAL)?;
        if let Some(left) = d.budget.left() {
            if per * members > left {
                return reject(
                    Code::BudgetExhausted,
                    format!("the deal's budget has {left} fen left; {members} member(s) need {per} fen each"),
                );
            }
        }
        Ok(())
    }

    /// A join; the one that fills the group forms it, and every member's order is paid.
    pub(in crate::engine) fn decide_join_group(
        &self,
        k: &cmd::JoinGroup,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("user", &k.user)?;
        self.in_festival(k.at)?;
        let gi = st.market.group_ids.get(&k.group).ok_or_else(|| unknown("group", &k.group))?;
        let g = &st.market.groups[gi as usize];
        let d = &st.market.deals[g.deal as usize];
        if g.state != GroupState::Open || k.at >= g.deadline {
            return reject(
                Code::PromotionEnded,
                format!(
                    "group `{}` is no longer open (it formed, or its time limit passed at {})",
                    k.group, g.deadline
                ),
            );
        }
        if k.at < g.opened {
            return reject(Code::InvalidValue, format!("`at` {} is before the group opened at {}", k.at, g.opened));
        }
        self.check_member(g.deal, &k.user)?;
        self.check_new_order(&k.order)?;
        if g.members.iter().any(|m| m.order == k.order) {
            return reject(Code::DuplicateOrder, format!("order `{}` already exists; order ids are unique", k.order));
        }
        self.check_deal_budget(d, 1)?;
        out.push(Event::GroupJoined {
            id: k.id.clone(),
            group: k.group.clone(),
            user: k.user.clone(),
            order: k.order.clone(),
            at: k.at,
        });
        if g.members.len() + 1 == d.size as usize {
            self.group_formed(k, g, d, out)?;
        }
        Ok(())
    }

    /// The group formed: one order per member, attributed at the join that filled it.
    fn group_formed(
        &self,
        k: &cmd::JoinGroup,
        g: &Group,
        d: &GroupDeal,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        out.push(Event::GroupFormed { group: k.group.clone(), at: k.at });
        let mi = d.merchant;
        let (session, anchor, provider, self_broadcast) =
            self.attribution(mi, g.channel, g.session.map(|s| st.session_ids.name(s)), k.at)?;
        let members = g.members.iter().map(|m| (st.users.name(m.user).to_string(), m.order.clone()));
        for (user, order) in members.chain([(k.user.clone(), k.order.clone())]) {
            out.push(Event::OrderPaid {
                order,
                user,
                merchant: st.merchant_ids.name(mi).to_string(),
                channel: g.channel,
                session: session.clone(),
                anchor: anchor.clone(),
                provider: provider.clone(),
                self_broadcast,
                lines: vec![LineRec { sku: d.sku.clone(), qty: 1, price: d.price.0, paid: d.group_price.0 }],
                at: k.at,
            });
        }
        Ok(())
    }

    /// A group's deadline at a tick: it fails, and every member is refunded, if still open.
    pub(super) fn group_due(&self, i: u32, due: Ts) -> Option<Event> {
        let m = &self.state.market;
        let g = &m.groups[i as usize];
        if g.state != GroupState::Open {
            return None;
        }
        let price = m.deals[g.deal as usize].group_price.0;
        Some(Event::GroupFailed {
            group: m.group_ids.name(i).to_string(),
            refunded: price * g.members.len() as i64,
            at: due,
        })
    }
}

/// The time limit is the recorded one (the festival's default was taken at the decision).
pub(in crate::engine) fn deal_created(st: &mut State, k: &GroupDealDef) -> Applied {
    let mi = idx(&st.merchant_ids, &k.merchant, "merchant")?;
    st.market.deal_ids.intern(&k.deal);
    st.market.deals.push(GroupDeal {
        merchant: mi,
        sku: k.sku.clone(),
        price: Fen(k.price),
        group_price: Fen(k.group_price),
        size: k.size as u32,
        limit_ms: k.time_limit_s * 1000,
        start: k.start,
        end: k.end,
        budget: Budget { cap: k.budget.map(Fen), ..Budget::default() },
        formed: 0,
        failed: 0,
    });
    Ok(())
}

/// The opener is the first member; `member` is (user, order).
#[allow(clippy::too_many_arguments, reason = "the fields of one event, as the dispatch destructures it")]
pub(in crate::engine) fn opened(
    st: &mut State,
    group: &str,
    deal: &str,
    member: (&str, &str),
    channel: Channel,
    session: Option<&str>,
    deadline: Ts,
    at: Ts,
) -> Applied {
    let (user, order) = member;
    let d = idx(&st.market.deal_ids, deal, "group deal")?;
    let s = opt_idx(&st.session_ids, session, "session")?;
    let u = st.users.intern(user);
    let g = st.market.group_ids.intern(group);
    st.market.groups.push(Group {
        deal: d,
        channel,
        session: s,
        members: vec![Member { user: u, order: order.to_string(), at }],
        opened: at,
        deadline,
        state: GroupState::Open,
    });
    join(&mut st.market, d, u, order);
    st.market.timers.insert((deadline, timer::GROUP, g));
    Ok(())
}

pub(in crate::engine) fn joined(st: &mut State, group: &str, user: &str, order: &str, at: Ts) -> Applied {
    let g = idx(&st.market.group_ids, group, "group")?;
    let u = st.users.intern(user);
    let d = st.market.groups[g as usize].deal;
    st.market.groups[g as usize].members.push(Member { user: u, order: order.to_string(), at });
    join(&mut st.market, d, u, order);
    Ok(())
}

/// A group formed (`formed`) or failed: its subsidy is spent or released, its members'
/// orders are no longer pending, and a failed group's members may join another.
pub(in crate::engine) fn closed(st: &mut State, group: &str, at: Ts, formed: bool) -> Applied {
    let g = idx(&st.market.group_ids, group, "group")?;
    let m = &mut st.market;
    let grp = &mut m.groups[g as usize];
    grp.state = if formed { GroupState::Formed(at) } else { GroupState::Failed(at) };
    m.timers.remove(&(grp.deadline, timer::GROUP, g));
    let d = &mut m.deals[grp.deal as usize];
    let subsidy = Fen((d.price - d.group_price).0 * grp.members.len() as i64);
    d.budget.reserved -= subsidy;
    if formed {
        d.formed += 1;
        d.budget.spent += subsidy;
    } else {
        d.failed += 1;
        m.totals.subsidies_fen -= subsidy.0;
    }
    for mem in &grp.members {
        m.pending_orders.remove(mem.order.as_str());
        // A failed group's members may try again in another group.
        if !formed {
            m.group_members.remove(&(grp.deal, mem.user));
        }
    }
    Ok(())
}

fn join(m: &mut Market, deal: u32, u: u32, order: &str) {
    m.group_members.insert((deal, u));
    m.pending_orders.insert(order.into());
    let d = &mut m.deals[deal as usize];
    d.budget.reserved += d.price - d.group_price;
    m.totals.subsidies_fen += (d.price - d.group_price).0;
}
