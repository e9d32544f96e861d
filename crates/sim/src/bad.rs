//! The deliberately bad lines: one every `BAD_EVERY` commands, cycling through the
//! `BAD_KINDS` kinds of docs/simulator.md's table, each a line `dacu ingest` must refuse
//! with its own code.

use super::*;

impl<W: Write> Gen<'_, W> {
    pub(super) fn bad_line(&mut self, day: &str) -> io::Result<()> {
        let mut kind = self.sum.bad_lines % BAD_KINDS;
        // Ending s0 again is only wrong once s0 has ended (sessions run one after another).
        if (kind == 23 && self.sum.sessions < 2) || ((kind == 26 || kind == 34) && self.sum.sessions < 1) {
            kind = 1;
        }
        self.sum.bad_lines += 1;
        let at = ts(day, 43_200);
        let line = match kind {
            0 => r#"{"type":"order_paid","order":"#.to_string(),
            1 => r#"{"type":"teleport","anchor":"a0"}"#.to_string(),
            2 => r#"{"type":"register_provider","provider":"p_incomplete"}"#.to_string(),
            3 => match self.last_order {
                Some((o, _)) => format!(
                    r#"{{"type":"order_paid","order":"o{o}","user":"u1","merchant":"m0","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#
                ),
                None => r#"[]"#.to_string(),
            },
            4 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m_missing","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            5 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":101}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            6 => match self.last_order {
                Some((o, paid)) => format!(
                    r#"{{"type":"refund","order":"o{o}","amount":{},"at":"{at}","refund_id":"bad{}"}}"#,
                    paid + 1,
                    self.sum.bad_lines
                ),
                None => r#"{}"#.to_string(),
            },
            7 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"live","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            8 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"2000-01-01T00:00:00+08:00"}}"#,
                self.sum.bad_lines
            ),
            9 => format!(r#"{{"type":"viewer_enter","session":"s_missing","user":"u1","at":"{at}"}}"#),
            10 => r#"{"type":"live_end","session":"s0","at":"yesterday"}"#.to_string(),
            12 => {
                r#"{"type":"register_merchant","merchant":"m0","name":"again","brand_tier":"none","category":"food"}"#
                    .to_string()
            }
            13 => format!(
                r#"{{"type":"register_anchor","anchor":"a_bad{}","name":"x","followers":-5}}"#,
                self.sum.bad_lines
            ),
            14 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"","merchant":"m0","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            15 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"shelf","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}},{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            16 => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"shelf","session":"s0","lines":[{{"sku":"x","qty":1,"price":100,"paid":100}}],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            17 => format!(
                r#"{{"type":"refund","order":"o_missing","amount":1,"at":"{at}","refund_id":"bad{}"}}"#,
                self.sum.bad_lines
            ),
            18 => format!(
                r#"{{"type":"live_start","session":"s_bad{}","anchor":"a_missing","at":"{at}"}}"#,
                self.sum.bad_lines
            ),
            19 => format!(r#"{{"type":"bind_provider","provider":"p_missing","merchant":"m0","at":"{at}"}}"#),
            20 => format!(r#"{{"type":"enroll","program":"no_such_program","participant":"m0","at":"{at}"}}"#),
            21 => match self.last_order {
                Some((o, _)) => format!(
                    r#"{{"type":"refund","order":"o{o}","amount":1,"at":"2000-01-01T00:00:00+08:00","refund_id":"bad{}"}}"#,
                    self.sum.bad_lines
                ),
                None => r#"{}"#.to_string(),
            },
            22 => self.bad.not_eligible.clone().unwrap_or_else(|| r#"{}"#.to_string()),
            23 => format!(r#"{{"type":"live_end","session":"s0","at":"{at}"}}"#),
            24 => r#"{"type":"register_anchor","anchor":"a0","name":"again","followers":1}"#.to_string(),
            25 => r#"{"type":"register_provider","provider":"p0","name":"again"}"#.to_string(),
            26 => format!(r#"{{"type":"live_start","session":"s0","anchor":"a0","at":"{at}"}}"#),
            27 => match self.bad.certified {
                Some((p, _)) => format!(r#"{{"type":"certify_provider","provider":"p{p}","at":"{at}"}}"#),
                None => r#"{}"#.to_string(),
            },
            28 => match self.bad.binding {
                Some((p, m, when)) => {
                    format!(r#"{{"type":"bind_provider","provider":"p{p}","merchant":"m{m}","at":"{when}"}}"#)
                }
                None => r#"{}"#.to_string(),
            },
            29 => match self.bad.uncertified {
                Some(p) => format!(r#"{{"type":"bind_provider","provider":"p{p}","merchant":"m0","at":"{at}"}}"#),
                None => r#"{}"#.to_string(),
            },
            30 => match &self.bad.program {
                Some((p, _)) => format!(r#"{{"type":"enroll","program":"{p}","participant":"nobody","at":"{at}"}}"#),
                None => r#"{}"#.to_string(),
            },
            31 => self.bad.enrolment.clone().unwrap_or_else(|| r#"{}"#.to_string()),
            32 => match &self.bad.program {
                Some((p, who)) => format!(
                    r#"{{"type":"enroll","program":"{p}","participant":"{who}","at":"2000-01-01T00:00:00+08:00"}}"#
                ),
                None => r#"{}"#.to_string(),
            },
            33 => match &self.bad.program {
                Some((p, who)) => format!(
                    r#"{{"type":"enroll","program":"{p}","participant":"{who}","at":"2100-01-01T00:00:00+08:00"}}"#
                ),
                None => r#"{}"#.to_string(),
            },
            34 => format!(r#"{{"type":"viewer_enter","session":"s0","user":"u1","at":"{}"}}"#, self.f.start()),
            // Last in the cycle, so that a refund has been written by then.
            35 => match &self.last_refund {
                Some(line) => line.clone(),
                None => r#"{}"#.to_string(),
            },
            _ => format!(
                r#"{{"type":"order_paid","order":"bad{}","user":"u1","merchant":"m0","channel":"shelf","lines":[],"at":"{at}"}}"#,
                self.sum.bad_lines
            ),
        };
        self.line(&line)
    }

    pub(super) fn maybe_bad(&mut self, day: &str) -> io::Result<()> {
        if self.sum.commands >= self.next_bad_at {
            self.next_bad_at += BAD_EVERY;
            self.bad_line(day)?;
        }
        Ok(())
    }
}
