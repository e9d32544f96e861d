//! The live room: sessions starting and ending, viewers entering and leaving, likes,
//! shares, follows and comments, and the follows that coupons, red packets and lotteries
//! check — decide and apply. docs/commands.md documents every rule and code here.

use super::{check_id, idx, limits, reject, Applied, Engine};
use crate::command as cmd;
use crate::error::{Code, Rejection};
use crate::event::Event;
use crate::kinds::InteractionKind;
use crate::market::Target;
use crate::state::{minute_of, Session, State};
use crate::time::Ts;

impl Engine {
    pub(super) fn decide_live_start(&self, l: &cmd::LiveStart, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let st = &self.state;
        check_id("session", &l.session)?;
        self.in_festival(l.at)?;
        let ai = self.anchor_idx(&l.anchor)?;
        if st.session_ids.get(&l.session).is_some() {
            return reject(Code::DuplicateSession, format!("session `{}` already exists; use a new id", l.session));
        }
        if let Some(live) = st.anchors[ai as usize].live_session {
            return reject(
                Code::AnchorAlreadyLive,
                format!(
                    "anchor `{}` is live in session `{}`; end it with live_end first",
                    l.anchor,
                    st.session_ids.name(live)
                ),
            );
        }
        out.push(Event::LiveStarted { session: l.session.clone(), anchor: l.anchor.clone(), at: l.at });
        Ok(())
    }

    pub(super) fn decide_live_end(&self, l: &cmd::LiveEnd, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.live_session(&l.session, l.at)?;
        let si = self.session_idx(&l.session)?;
        self.check_watch(si, self.open_stays_ms(si, l.at))?;
        out.push(Event::LiveEnded { session: l.session.clone(), at: l.at });
        Ok(())
    }

    pub(super) fn decide_viewer_enter(&self, v: &cmd::ViewerEnter, out: &mut Vec<Event>) -> Result<(), Rejection> {
        check_id("user", &v.user)?;
        let s = self.live_session(&v.session, v.at)?;
        if self.state.users.get(&v.user).is_some_and(|u| s.present.contains_key(&u)) {
            return reject(
                Code::ViewerAlreadyInSession,
                format!("user `{}` is already in session `{}`; send viewer_leave first", v.user, v.session),
            );
        }
        out.push(Event::ViewerEntered { session: v.session.clone(), user: v.user.clone(), at: v.at });
        Ok(())
    }

    pub(super) fn decide_viewer_leave(&self, v: &cmd::ViewerLeave, out: &mut Vec<Event>) -> Result<(), Rejection> {
        let s = self.live_session(&v.session, v.at)?;
        let Some(entered) = self.state.users.get(&v.user).and_then(|u| s.present.get(&u)) else {
            return reject(Code::ViewerNotInSession, format!("user `{}` is not in session `{}`", v.user, v.session));
        };
        if v.at < *entered {
            return reject(Code::InvalidValue, format!("`at` {} is before the user entered at {entered}", v.at));
        }
        self.check_watch(self.session_idx(&v.session)?, (v.at.0 - entered.0) as i128)?;
        out.push(Event::ViewerLeft { session: v.session.clone(), user: v.user.clone(), at: v.at });
        Ok(())
    }

    /// An interaction, or with `text` a comment (which may say a passphrase).
    pub(super) fn decide_interaction(&self, i: &cmd::Interaction, out: &mut Vec<Event>) -> Result<(), Rejection> {
        check_id("user", &i.user)?;
        self.live_session(&i.session, i.at)?;
        if let Some(text) = &i.text {
            if i.kind != InteractionKind::Comment || text.len() > limits::market::TEXT_BYTES {
                return reject(
                    Code::InvalidValue,
                    format!("`text` is for comments only, at most {} bytes", limits::market::TEXT_BYTES),
                );
            }
            out.push(Event::Commented {
                session: i.session.clone(),
                user: i.user.clone(),
                text: text.clone(),
                at: i.at,
            });
            return Ok(());
        }
        out.push(Event::Interacted { session: i.session.clone(), user: i.user.clone(), kind: i.kind, at: i.at });
        Ok(())
    }

    pub(super) fn decide_follow(&self, f: &cmd::Follow, out: &mut Vec<Event>) -> Result<(), Rejection> {
        self.anchor_idx(&f.anchor)?;
        check_id("user", &f.user)?;
        out.push(Event::Followed { id: f.id.clone(), anchor: f.anchor.clone(), user: f.user.clone(), at: f.at });
        Ok(())
    }

    /// Watch time of `user` in session `s` up to `at`, including an ongoing stay.
    pub fn watch_ms(&self, s: u32, user: u32, at: Ts) -> i64 {
        let st = &self.state;
        let past = st.sessions[s as usize].watch.get(user);
        let now = st.sessions[s as usize].present.get(&user).map_or(0, |t| (at.0 - t.0).max(0));
        past + now
    }

    /// When `user` followed `anchor`, if by `at`.
    pub(super) fn follows(&self, anchor: u32, user: u32, at: Ts) -> Option<Ts> {
        self.state.market.follows.get(&(anchor, user)).copied().filter(|t| *t <= at)
    }
}

pub(super) fn live_started(st: &mut State, session: &str, anchor: &str, at: Ts) -> Applied {
    let a = idx(&st.anchor_ids, anchor, "anchor")?;
    let s = st.session_ids.intern(session);
    st.anchors[a as usize].live_session = Some(s);
    st.sessions.push(Session::new(a, at));
    Ok(())
}

/// Everyone still in the room leaves when the stream ends.
pub(super) fn live_ended(st: &mut State, session: &str, at: Ts) -> Applied {
    let si = idx(&st.session_ids, session, "session")?;
    let s = &mut st.sessions[si as usize];
    s.end = Some(at);
    s.touch(at);
    let mut stayed = 0;
    let start = s.start;
    // Taken rather than drained: an ended session's room keeps no table.
    for (u, entered) in std::mem::take(&mut s.present).into_pairs() {
        let w = (at.0 - entered.0).max(0);
        stayed += w;
        s.watch.add(u, w);
        // A stay never ends before it began (an end sent with an earlier time).
        s.curve.leave(minute_of(start, at.max(entered)));
    }
    s.watch_ms += stayed;
    st.anchors[s.anchor as usize].live_session = None;
    Ok(())
}

pub(super) fn viewer_entered(st: &mut State, session: &str, user: &str, at: Ts) -> Applied {
    let si = idx(&st.session_ids, session, "session")?;
    let u = st.users.intern(user);
    let s = &mut st.sessions[si as usize];
    s.present.insert(u, at);
    if s.unique_viewers.insert(u) {
        st.viewer_pairs += 1;
    }
    s.entries += 1;
    s.peak_concurrent = s.peak_concurrent.max(s.present.len() as u64);
    s.touch(at);
    let m = s.minute_of(at);
    s.curve.enter(m);
    Ok(())
}

pub(super) fn viewer_left(st: &mut State, session: &str, user: &str, at: Ts) -> Applied {
    let si = idx(&st.session_ids, session, "session")?;
    let u = idx(&st.users, user, "user")?;
    let s = &mut st.sessions[si as usize];
    let entered = s.present.remove(&u).ok_or_else(|| format!("user `{user}` is not in session `{session}`"))?;
    s.watch_ms += (at.0 - entered.0).max(0);
    s.touch(at);
    let m = s.minute_of(at.max(entered));
    s.curve.leave(m);
    s.watch.add(u, (at.0 - entered.0).max(0));
    Ok(())
}

/// A follow in the room counts as following the session's anchor.
pub(super) fn interacted(st: &mut State, session: &str, user: &str, kind: InteractionKind, at: Ts) -> Applied {
    let si = idx(&st.session_ids, session, "session")?;
    let u = st.users.intern(user);
    st.sessions[si as usize].interactions[kind.index()] += 1;
    st.sessions[si as usize].touch(at);
    if kind == InteractionKind::Follow {
        let a = st.sessions[si as usize].anchor;
        st.market.follows.entry((a, u)).or_insert(at);
    }
    Ok(())
}

pub(super) fn followed(st: &mut State, anchor: &str, user: &str, at: Ts) -> Applied {
    let a = idx(&st.anchor_ids, anchor, "anchor")?;
    let u = st.users.intern(user);
    st.market.follows.entry((a, u)).or_insert(at);
    Ok(())
}

/// A comment counts as one; one that says a red packet's or lottery's passphrase makes
/// the user eligible for it.
pub(super) fn commented(st: &mut State, session: &str, user: &str, text: &str, at: Ts) -> Applied {
    let s = idx(&st.session_ids, session, "session")?;
    let u = st.users.intern(user);
    st.sessions[s as usize].interactions[InteractionKind::Comment.index()] += 1;
    st.sessions[s as usize].touch(at);
    if let Some(targets) = st.market.passphrases.get(&s) {
        for (p, t) in targets {
            if p == text {
                match *t {
                    Target::Packet(i) => st.market.packets[i as usize].said.insert(u),
                    Target::Lottery(i) => st.market.lotteries[i as usize].said.insert(u),
                };
            }
        }
    }
    Ok(())
}
