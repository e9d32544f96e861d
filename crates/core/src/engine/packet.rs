//! Where a red packet's randomness comes from, and building the packet from its creation
//! event. A packet is split either by a `seed` the command gives outright, or by the
//! seed derived from a `secret`: then the creation event publishes a commitment to the
//! secret, and views reveal the secret only once the packet is finished, so nobody can
//! read the shares ahead of the grabs, and everybody can check them afterwards
//! (docs/red-packets.md#commit-and-reveal). The core never invents the secret: the shell
//! draws it from the OS (`dacu ingest` does, for a command that gives neither).

use super::{reject, Engine};
use crate::command as cmd;
use crate::error::{Code, Rejection};
use crate::event::{Event, RedPacketDef};
use crate::festival::Festival;
use crate::market::{timer, Eligibility, Packet, Target};
use crate::money::Fen;
use crate::promo::{lottery, redpacket};
use crate::state::State;

/// The secret's size in bytes, as for a lottery's.
pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// The revealed half of a packet created with a secret.
pub struct Reveal<'a> {
    pub commitment: &'a str,
    pub secret: &'a str,
}

impl Engine {
    /// The creation event of a `create_red_packet` whose other fields passed their rules:
    /// `red_packet_created` for a `seed`, `red_packet_committed` for a `secret`.
    pub(super) fn packet_created(&self, k: &cmd::CreateRedPacket) -> Result<Event, Rejection> {
        let def = RedPacketDef::from(k);
        match (k.seed, &k.secret) {
            (Some(seed), None) => Ok(Event::RedPacketCreated { def, seed }),
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
                Ok(Event::RedPacketCommitted {
                    def,
                    seed: redpacket::seed_of_secret(&secret),
                    commitment: lottery::commitment(&secret),
                    secret: hex.clone(),
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
}

/// Builds the packet a creation event records: its shares split by `seed`, its timer, its
/// passphrase; with `reveal`, the commitment and the secret kept for after it finishes.
pub(super) fn apply_created(
    st: &mut State,
    festival: &Festival,
    k: &RedPacketDef,
    seed: u64,
    reveal: Option<Reveal<'_>>,
) -> Result<(), String> {
    let unknown = |what: &str, id: &str| format!("unknown {what} `{id}`");
    let s = st.session_ids.get(&k.session).ok_or_else(|| unknown("session", &k.session))?;
    let issuer = super::market::parse_party(st, "party", &k.issuer).map_err(|r| r.message)?;
    let use_merchant = match &k.usable_merchant {
        Some(m) => Some(st.merchant_ids.get(m).ok_or_else(|| unknown("merchant", m))?),
        None => None,
    };
    let shares = redpacket::split(Fen(k.total), k.count as u32, k.split, seed)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|f| f.0)
        .collect();
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
        shares,
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
        use_until: k.use_until.unwrap_or(festival.end()),
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
