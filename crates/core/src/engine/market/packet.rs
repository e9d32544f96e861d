//! Live-room red packets (红包): creating one, grabbing its shares into wallets as money
//! for checkout, and its expiry at a tick — decide and apply.
//!
//! Where a red packet's randomness comes from: a packet is split either by a `seed` the
//! command gives outright, or by the seed derived from a `secret`: then the creation event
//! publishes a commitment to the secret, and views reveal the secret only once the packet
//! is finished, so nobody can read the shares ahead of the grabs, and everybody can check
//! them afterwards (docs/red-packets.md#commit-and-reveal). The core never invents the
//! secret: the shell draws it from the OS (`dacu ingest` does, for a command that gives
//! neither).

use super::{amount, dup, unknown, window};
use crate::command as cmd;
use crate::engine::bounds::within;
use crate::engine::{check_id, idx, limits, reject, Applied, Engine};
use crate::error::{Code, Rejection};
use crate::event::{Event, RedPacketDef};
use crate::market::{timer, Allowance, Eligibility, Packet, Party, Source, Target};
use crate::money::Fen;
use crate::promo::{lottery, redpacket};
use crate::state::State;
use crate::time::Ts;

/// The secret's size in bytes, as for a lottery's.
pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// The revealed half of a packet created with a secret.
pub struct Reveal<'a> {
    pub commitment: &'a str,
    pub secret: &'a str,
}

impl Engine {
    pub(in crate::engine) fn decide_create_packet(
        &self,
        k: &cmd::CreateRedPacket,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("packet", &k.packet)?;
        if st.market.packet_ids.get(&k.packet).is_some() {
            return Err(dup("red packet", &k.packet));
        }
        self.live_session(&k.session, k.at)?;
        let issuer = st.parse_party("issuer", &k.issuer)?;
        amount("total", k.total, 1)?;
        if !(1..=redpacket::MAX_COUNT as i64).contains(&k.count) || k.total < k.count {
            return reject(
                Code::InvalidValue,
                format!(
                    "`count` must be 1 to {} and at most `total` (every share gets at least 1 fen), got {}",
                    redpacket::MAX_COUNT,
                    k.count
                ),
            );
        }
        if k.opens_at < k.at {
            return reject(
                Code::InvalidValue,
                format!("`opens_at` ({}) must not be before `at` ({})", k.opens_at, k.at),
            );
        }
        window("opens_at", k.opens_at, "expires_at", k.expires_at)?;
        if k.expires_at > self.festival.end() {
            return reject(
                Code::InvalidValue,
                format!("`expires_at` must be at or before the festival's end {}", self.festival.end()),
            );
        }
        self.check_eligibility_fields(&k.passphrase, k.min_watch_s)?;
        if let Some(m) = &k.usable_merchant {
            self.merchant_idx(m)?;
        }
        if let Some(u) = k.use_until {
            window("opens_at", k.opens_at, "use_until", u)?;
        }
        let created = st.market.totals.packets_fen;
        within("the money of every red packet created", "fen", created, k.total as i128, limits::TOTAL)?;
        out.push(self.packet_created(k, issuer)?);
        Ok(())
    }

    /// The creation event of a `create_red_packet` whose other fields passed their rules:
    /// `red_packet_created` for a `seed`, `red_packet_committed` for a `secret`. Either
    /// records the shares, split now, and the packet's money usable until its
    /// `use_until` or the festival's end.
    fn packet_created(&self, k: &cmd::CreateRedPacket, issuer: Party) -> Result<Event, Rejection> {
        let def = RedPacketDef {
            id: k.id.clone(),
            packet: k.packet.clone(),
            session: k.session.clone(),
            issuer: self.state.party_rec(issuer),
            total: k.total,
            count: k.count,
            split: k.split,
            followers_only: k.followers_only,
            passphrase: k.passphrase.clone(),
            min_watch_s: k.min_watch_s,
            opens_at: k.opens_at,
            expires_at: k.expires_at,
            usable_merchant: k.usable_merchant.clone(),
            use_until: k.use_until.unwrap_or(self.festival.end()),
            at: k.at,
        };
        let shares = |seed: u64| -> Result<Vec<i64>, Rejection> {
            let s = redpacket::split(Fen(k.total), k.count as u32, k.split, seed)
                .map_err(|e| Rejection::new(Code::InvalidValue, e.to_string()))?;
            Ok(s.into_iter().map(|f| f.0).collect())
        };
        match (k.seed, &k.secret) {
            (Some(seed), None) => Ok(Event::RedPacketCreated { def, seed, shares: shares(seed)? }),
            (None, Some(hex)) => {
                let secret = match lottery::unhex(hex) {
                    Some(b) if SECRET_BYTES.contains(&b.len()) => b,
                    _ => {
                        return reject(
                            Code::InvalidValue,
                            "`secret` must be 16 to 64 random bytes as lowercase hex (32 to 128 digits 0-9, a-f)",
                        )
                    }
                };
                let seed = redpacket::seed_of_secret(&secret);
                Ok(Event::RedPacketCommitted {
                    def,
                    seed,
                    commitment: lottery::commitment(&secret),
                    secret: hex.clone(),
                    shares: shares(seed)?,
                })
            }
            (Some(_), Some(_)) => reject(
                Code::InvalidCommand,
                "give `seed` or `secret`, not both (see docs/commands.md#create_red_packet)",
            ),
            (None, None) => reject(
                Code::InvalidCommand,
                "create_red_packet needs `secret` (16 to 64 random bytes as lowercase hex) or `seed`; \
                 `dacu ingest` fills in a random secret when both are missing \
                 (see docs/commands.md#create_red_packet)",
            ),
        }
    }

    /// A grab takes the next share, in the order the split made them.
    pub(in crate::engine) fn decide_grab(&self, k: &cmd::GrabRedPacket, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        let pi = st.market.packet_ids.get(&k.packet).ok_or_else(|| unknown("red packet", &k.packet))?;
        let p = &st.market.packets[pi as usize];
        if k.at < p.opens_at {
            return reject(Code::PromotionNotActive, format!("red packet `{}` opens at {}", k.packet, p.opens_at));
        }
        if k.at >= p.expires_at || p.returned.is_some() {
            return reject(Code::PromotionEnded, format!("red packet `{}` expired at {}", k.packet, p.expires_at));
        }
        if p.grabbers.len() >= p.count as usize {
            return reject(Code::SoldOut, format!("all {} shares of red packet `{}` were grabbed", p.count, k.packet));
        }
        let Some(u) = st.users.get(&k.user) else {
            return reject(Code::NotEligible, format!("user `{}` must be in the live room", k.user));
        };
        if p.grabbers.contains(u) {
            return reject(Code::LimitReached, format!("user `{}` already grabbed red packet `{}`", k.user, k.packet));
        }
        self.eligible(p.session, &p.eligibility, p.said.contains(&u), u, k.at).map_err(|why| {
            Rejection::new(Code::NotEligible, format!("to grab red packet `{}` the user {why}", k.packet))
        })?;
        out.push(Event::RedPacketGrabbed {
            id: k.id.clone(),
            packet: k.packet.clone(),
            user: k.user.clone(),
            amount: p.shares[p.grabbers.len()],
            at: k.at,
        });
        Ok(())
    }

    /// A packet's expiry at a tick: what was not grabbed goes back to the issuer.
    pub(super) fn packet_due(&self, i: u32, due: Ts) -> Option<Event> {
        let m = &self.state.market;
        let p = &m.packets[i as usize];
        p.returned.is_none().then(|| Event::RedPacketExpired {
            packet: m.packet_ids.name(i).to_string(),
            leftover: (p.total - p.granted).0,
            at: due,
        })
    }
}

/// Builds the packet a creation event records: its shares as recorded (split from `seed`
/// when it was decided: nothing is split here), its timer, its passphrase; with `reveal`,
/// the commitment and the secret kept for after it finishes.
pub(in crate::engine) fn created(
    st: &mut State,
    k: &RedPacketDef,
    seed: u64,
    shares: &[i64],
    reveal: Option<Reveal<'_>>,
) -> Applied {
    let s = idx(&st.session_ids, &k.session, "session")?;
    let issuer = st.party_of(&k.issuer)?;
    let use_merchant = match &k.usable_merchant {
        Some(m) => Some(idx(&st.merchant_ids, m, "merchant")?),
        None => None,
    };
    if shares.len() as i64 != k.count || shares.iter().sum::<i64>() != k.total {
        return Err(format!("red packet `{}`: its shares do not split its total over its count", k.packet));
    }
    let p = st.market.packet_ids.intern(&k.packet);
    st.market.packets.push(Packet {
        session: s,
        issuer,
        total: Fen(k.total),
        count: k.count as u32,
        method: k.split,
        seed,
        commitment: reveal.as_ref().map(|r| r.commitment.to_string()),
        secret: reveal.as_ref().map(|r| r.secret.to_string()),
        shares: shares.to_vec(),
        grabbers: Default::default(),
        granted: Fen::ZERO,
        eligibility: Eligibility {
            in_room: true,
            followers_only: k.followers_only,
            passphrase: k.passphrase.clone(),
            min_watch_ms: k.min_watch_s * 1000,
        },
        opens_at: k.opens_at,
        expires_at: k.expires_at,
        use_merchant,
        use_until: k.use_until,
        returned: None,
        said: Default::default(),
    });
    if let Some(text) = &k.passphrase {
        st.market.passphrases.entry(s).or_default().push((text.clone(), Target::Packet(p)));
    }
    st.market.timers.insert((k.expires_at, timer::PACKET, p));
    st.market.totals.packets_fen += k.total;
    Ok(())
}

/// The share becomes money in the grabber's wallet, usable until the packet says.
pub(in crate::engine) fn grabbed(st: &mut State, packet: &str, user: &str, amount: i64, at: Ts) -> Applied {
    let p = idx(&st.market.packet_ids, packet, "red packet")?;
    let u = st.users.intern(user);
    let pk = &mut st.market.packets[p as usize];
    pk.grabbers.insert(u);
    pk.granted += Fen(amount);
    let al = Allowance {
        source: Source::Packet(p),
        amount: Fen(amount),
        left: Fen(amount),
        merchant: pk.use_merchant,
        got_at: at,
        until: pk.use_until,
    };
    crate::market::push_one(&mut st.market.wallets.entry(u).or_default().allowances, al);
    Ok(())
}

pub(in crate::engine) fn expired(st: &mut State, packet: &str, leftover: i64) -> Applied {
    let p = idx(&st.market.packet_ids, packet, "red packet")?;
    let pk = &mut st.market.packets[p as usize];
    pk.returned = Some(Fen(leftover));
    let due = pk.expires_at;
    st.market.timers.remove(&(due, timer::PACKET, p));
    Ok(())
}
