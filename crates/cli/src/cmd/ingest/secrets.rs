//! What the shell adds to a command before the engine sees it: fresh randomness, which
//! the deterministic core may not draw itself. A `create_red_packet` with neither `seed`
//! nor `secret` gets a secret of 32 bytes from the operating system, so its shares cannot
//! be predicted from anything public; the event records it, and the packet reveals it
//! once finished (docs/red-packets.md#commit-and-reveal).

use dacu_core::Command;
use std::io;

/// Bytes of a secret the shell draws.
pub const SECRET_BYTES: usize = 32;

/// Fills in what `c` leaves to the shell. Fails only if the OS random source does.
pub fn fill(c: &mut Command) -> io::Result<()> {
    if let Command::CreateRedPacket(k) = c {
        if k.seed.is_none() && k.secret.is_none() {
            k.secret = Some(random_hex()?);
        }
    }
    Ok(())
}

fn random_hex() -> io::Result<String> {
    let mut b = [0u8; SECRET_BYTES];
    getrandom::fill(&mut b)
        .map_err(|e| io::Error::other(format!("the operating system's random source failed: {e}")))?;
    Ok(dacu_core::promo::lottery::hex(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(extra: &str) -> Command {
        dacu_core::parse_line(&format!(
            r#"{{"type":"create_red_packet","id":"p","packet":"P","session":"s","issuer":"platform","total":10,"count":2,"split":"double_mean"{extra},"opens_at":"2021-11-05T20:05:00+08:00","expires_at":"2021-11-05T21:00:00+08:00","at":"2021-11-05T20:04:00+08:00"}}"#
        ))
        .unwrap()
    }

    fn secret(c: &Command) -> Option<String> {
        match c {
            Command::CreateRedPacket(k) => k.secret.clone(),
            _ => None,
        }
    }

    #[test]
    fn a_packet_without_seed_or_secret_gets_a_fresh_secret() {
        let (mut a, mut b) = (packet(""), packet(""));
        fill(&mut a).unwrap();
        fill(&mut b).unwrap();
        let sa = secret(&a).unwrap();
        assert_eq!(sa.len(), 2 * SECRET_BYTES);
        assert!(sa.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(Some(sa), secret(&b), "each packet its own secret");
        // A given seed or secret is left alone.
        let mut seeded = packet(r#","seed":7"#);
        fill(&mut seeded).unwrap();
        assert_eq!(secret(&seeded), None);
        let mut given = packet(r#","secret":"00112233445566778899aabbccddeeff""#);
        fill(&mut given).unwrap();
        assert_eq!(secret(&given).as_deref(), Some("00112233445566778899aabbccddeeff"));
    }
}
