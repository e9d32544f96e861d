//! Lotteries (抽奖, 福袋): creating one with a committed secret, and its draw at a tick —
//! decide and apply. docs/lottery.md specifies the draw.

use super::dup;
use crate::command as cmd;
use crate::engine::bounds::within;
use crate::engine::{check_id, check_name, idx, limits, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, LotteryDef, PrizeGrantsRec, PrizeRec};
use crate::kinds::PrizeKind;
use crate::limits::market as ml;
use crate::market::{timer, Drawn, Eligibility, Lottery, Prize, Target};
use crate::money::Fen;
use crate::promo::lottery;
use crate::state::State;
use crate::time::Ts;

impl Engine {
    pub(in crate::engine) fn decide_create_lottery(
        &self,
        k: &cmd::CreateLottery,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("lottery", &k.lottery)?;
        if st.market.lottery_ids.get(&k.lottery).is_some() {
            return Err(dup("lottery", &k.lottery));
        }
        self.live_session(&k.session, k.at)?;
        let issuer = st.parse_party("issuer", &k.issuer)?;
        check_name("prize.name", &k.prize.name)?;
        if !(0..=ml::AMOUNT_FEN).contains(&k.prize.value) {
            return reject(Code::InvalidValue, format!("`prize.value` must be 0 to {} fen", ml::AMOUNT_FEN));
        }
        match (k.prize.kind, &k.prize.coupon) {
            (PrizeKind::Coupon, Some(c)) => {
                self.coupon_idx(c)?;
            }
            (PrizeKind::Coupon, None) => return reject(Code::InvalidValue, "a coupon prize needs `prize.coupon`"),
            (_, Some(_)) => return reject(Code::InvalidValue, "`prize.coupon` is only for kind \"coupon\""),
            _ => {}
        }
        if !(1..=ml::LOTTERY_WINNERS).contains(&k.winners) {
            return reject(
                Code::InvalidValue,
                format!("`winners` must be 1 to {}, got {}", ml::LOTTERY_WINNERS, k.winners),
            );
        }
        if k.draw_at < k.at || k.draw_at >= self.festival.end() {
            return reject(
                Code::InvalidValue,
                format!(
                    "`draw_at` must be from `at` ({}) to before the festival's end ({})",
                    k.at,
                    self.festival.end()
                ),
            );
        }
        self.check_eligibility_fields(&k.passphrase, k.min_watch_s)?;
        let secret = match lottery::unhex(&k.secret) {
            Some(b) if (16..=64).contains(&b.len()) => b,
            _ => {
                return reject(
                    Code::InvalidValue,
                    "`secret` must be 16 to 64 random bytes as lowercase hex (32 to 128 digits 0-9, a-f)",
                )
            }
        };
        let offered = st.market.totals.prizes_fen;
        let worth = k.winners as i128 * k.prize.value as i128;
        within("the prize value of every lottery created", "fen", offered, worth, limits::TOTAL)?;
        let def = LotteryDef {
            id: k.id.clone(),
            lottery: k.lottery.clone(),
            session: k.session.clone(),
            issuer: st.party_rec(issuer),
            prize: PrizeRec::from(&k.prize),
            winners: k.winners,
            in_room: k.in_room,
            followers_only: k.followers_only,
            passphrase: k.passphrase.clone(),
            min_watch_s: k.min_watch_s,
            draw_at: k.draw_at,
            secret: lottery::hex(&secret),
            at: k.at,
        };
        out.push(Event::LotteryCreated { def, commitment: lottery::commitment(&secret) });
        Ok(())
    }

    /// A lottery's draw at a tick, if not drawn yet: the eligible viewers, in canonical
    /// order (a secret-keyed sample of a huge room), the winners drawn from them, and a
    /// coupon prize's grants: to the winners in order while the coupon's stock lasts,
    /// each valid as a claim at the draw would be.
    pub(super) fn lottery_due(&self, i: u32, due: Ts) -> Option<Event> {
        let st = &self.state;
        let l = &st.market.lotteries[i as usize];
        if l.drawn.is_some() {
            return None;
        }
        let s = &st.sessions[l.session as usize];
        // Candidates: everyone who was ever in the room; the rules filter.
        let mut eligible: Vec<String> = s
            .unique_viewers
            .iter()
            .filter(|&u| self.eligible(l.session, &l.eligibility, l.said.contains(&u), u, due).is_ok())
            .map(|u| st.users.name(u).to_string())
            .collect();
        eligible = lottery::canonical(&eligible);
        let secret = lottery::unhex(&l.secret).expect("validated at creation");
        // The event lists the pool: a huge room is sampled (docs/lottery.md).
        let eligible = lottery::pool(&secret, eligible);
        let winners = lottery::draw(&secret, &eligible, l.winners);
        let prize_grants = match l.prize.coupon {
            Some(c) => {
                let cp = &st.market.coupons[c as usize];
                let left = cp.stock.saturating_sub(cp.claimed);
                let (from, until) = super::coupon::valid_from_claim(cp.validity, due);
                PrizeGrantsRec::Coupons { granted: left.min(winners.len() as u64) as u32, from, until }
            }
            None => PrizeGrantsRec::Nothing,
        };
        Some(Event::LotteryDrawn {
            lottery: st.market.lottery_ids.name(i).to_string(),
            eligible,
            winners,
            at: due,
            prize_grants,
        })
    }
}

/// The lottery as recorded: its issuer resolved and its secret in canonical hex when it
/// was decided (a format 1 record's spelling is canonicalised as it is decoded).
pub(in crate::engine) fn created(st: &mut State, k: &LotteryDef, commitment: &str) -> Applied {
    let s = idx(&st.session_ids, &k.session, "session")?;
    let issuer = st.party_of(&k.issuer)?;
    let coupon = match &k.prize.coupon {
        Some(c) => Some(idx(&st.market.coupon_ids, c, "coupon")?),
        None => None,
    };
    let secret = k.secret.clone();
    let l = st.market.lottery_ids.intern(&k.lottery);
    st.market.lotteries.push(Lottery {
        session: s,
        issuer,
        prize: Prize { kind: k.prize.kind, name: k.prize.name.clone(), value: Fen(k.prize.value), coupon },
        winners: k.winners as u32,
        eligibility: Eligibility {
            in_room: k.in_room,
            followers_only: k.followers_only,
            passphrase: k.passphrase.clone(),
            min_watch_ms: k.min_watch_s * 1000,
        },
        draw_at: k.draw_at,
        commitment: commitment.to_string(),
        secret,
        said: Default::default(),
        drawn: None,
    });
    if let Some(text) = &k.passphrase {
        st.market.passphrases.entry(s).or_default().push((text.clone(), Target::Lottery(l)));
    }
    st.market.timers.insert((k.draw_at, timer::LOTTERY, l));
    st.market.totals.prizes_fen += k.winners * k.prize.value;
    Ok(())
}

/// The draw as recorded; a coupon prize's grants, decided at the draw, go into the
/// winners' wallets. A format 1 draw grants by [`format1_grants`].
pub(in crate::engine) fn drawn(
    st: &mut State,
    lottery: &str,
    eligible: &[String],
    winners: &[String],
    at: Ts,
    grants: &PrizeGrantsRec,
) -> Applied {
    let l = idx(&st.market.lottery_ids, lottery, "lottery")?;
    let lot = &st.market.lotteries[l as usize];
    st.market.timers.remove(&(lot.draw_at, timer::LOTTERY, l));
    match (lot.prize.coupon, grants) {
        (Some(c), &PrizeGrantsRec::Coupons { granted, from, until }) => {
            let to = winners.get(..granted as usize).ok_or("more coupon grants than winners")?;
            for w in to {
                let u = st.users.intern(w);
                super::coupon::grant(&mut st.market, c, u, from, until, at);
            }
        }
        (Some(c), PrizeGrantsRec::Format1) => format1_grants(st, c, winners, at),
        (None, PrizeGrantsRec::Nothing | PrizeGrantsRec::Format1) => {}
        (None, PrizeGrantsRec::Coupons { .. }) | (Some(_), PrizeGrantsRec::Nothing) => {
            return Err(format!("lottery `{lottery}`: the draw's grants do not match its prize"))
        }
    }
    st.market.lotteries[l as usize].drawn = Some(Drawn { at, eligible: eligible.to_vec(), winners: winners.to_vec() });
    Ok(())
}

/// Format 1's rule for a draw's coupon prizes, which format 1 did not record: to the
/// winners in order while the coupon's stock lasts, valid as a claim at the draw. The one
/// place apply derives a value, and only for events converted from format 1 (the codec
/// cannot see the state it depends on); a draw decided today records its grants.
fn format1_grants(st: &mut State, c: u32, winners: &[String], at: Ts) {
    for w in winners {
        // Format 1 interned the winner before looking at the stock: kept, so that a
        // format 1 log rebuilds the very same state.
        let u = st.users.intern(w);
        let cp = &st.market.coupons[c as usize];
        if cp.claimed >= cp.stock {
            break;
        }
        let (from, until) = super::coupon::valid_from_claim(cp.validity, at);
        super::coupon::grant(&mut st.market, c, u, from, until, at);
    }
}
