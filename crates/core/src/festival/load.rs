//! Reading a festival file: TOML syntax, then the typed model (collecting every unknown
//! key), then the semantic checks. Every problem carries the line and column it is about.

use super::bounds;
use super::model::*;
use crate::time::Ts;
use std::collections::{BTreeMap, BTreeSet};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One problem in a festival file, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// A segment of a path into the TOML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub(super) fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// Finds the byte span of a value (or, with `want_key`, of its key) by path.
struct Locator<'a> {
    src: &'a str,
    root: &'a Spanned<DeTable<'a>>,
}

impl<'a> Locator<'a> {
    fn span(&self, path: &[Seg], want_key: bool) -> std::ops::Range<usize> {
        let mut best = self.root.span();
        let mut table: Option<&DeTable<'a>> = Some(self.root.get_ref());
        let mut value: Option<&Spanned<DeValue<'a>>> = None;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match seg {
                Seg::Key(k) => {
                    let Some(t) = table else { break };
                    let Some((kspan, v)) = t.iter().find(|(kk, _)| kk.get_ref() == k) else {
                        break;
                    };
                    best = if last && want_key { kspan.span() } else { v.span() };
                    value = Some(v);
                }
                Seg::Index(n) => {
                    let Some(arr) = value.and_then(|v| v.get_ref().as_array()) else {
                        break;
                    };
                    let Some(v) = arr.get(*n) else { break };
                    best = v.span();
                    value = Some(v);
                }
            }
            table = value.and_then(|v| v.get_ref().as_table());
        }
        best
    }

    fn problem(&self, path: &[Seg], want_key: bool, message: String) -> Problem {
        let span = self.span(path, want_key);
        let (line, col) = line_col(self.src, span.start);
        Problem { line, col, message }
    }
}

/// 1-based line and column (counted in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

fn path_of(p: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path;
    match p {
        Path::Root => {}
        Path::Seq { parent, index } => {
            path_of(parent, out);
            out.push(Seg::Index(*index));
        }
        Path::Map { parent, key: k } => {
            path_of(parent, out);
            out.push(Seg::Key(k.clone()));
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            path_of(parent, out)
        }
    }
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Parses and validates a festival file. On failure returns every problem found, sorted
/// by position.
pub fn parse(src: &str) -> Result<Festival, Vec<Problem>> {
    let root = match DeTable::parse(src) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = line_col(src, e.span().map(|s| s.start).unwrap_or(0));
            return Err(vec![Problem { line, col, message: e.message().to_string() }]);
        }
    };
    let loc = Locator { src, root: &root };
    let mut problems = Vec::new();
    let mut unknown: Vec<Vec<Seg>> = Vec::new();
    let de = toml::de::Deserializer::from(root.clone());
    let parsed: Result<Festival, _> = serde_ignored::deserialize(de, |p| {
        let mut path = Vec::new();
        path_of(&p, &mut path);
        unknown.push(path);
    });
    for path in &unknown {
        let name = match path.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => path_text(path),
        };
        let parent = path_text(&path[..path.len().saturating_sub(1)]);
        let where_ = if parent.is_empty() { "at the top level".to_string() } else { format!("in `{parent}`") };
        problems.push(loc.problem(
            path,
            true,
            format!("unknown key `{name}` {where_} (see docs/festival.md for the accepted keys)"),
        ));
    }
    match parsed {
        Ok(f) => {
            validate(&f, &loc, &mut problems);
            if problems.is_empty() {
                return Ok(f);
            }
        }
        Err(e) => {
            let (line, col) = line_col(src, e.span().map(|s| s.start).unwrap_or(0));
            problems.push(Problem { line, col, message: e.message().trim().to_string() });
        }
    }
    problems.sort_by_key(|p| (p.line, p.col));
    problems.dedup();
    Err(problems)
}

pub(super) struct V<'a, 'b> {
    loc: &'b Locator<'a>,
    out: &'b mut Vec<Problem>,
}

impl V<'_, '_> {
    pub(super) fn err(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.out.push(self.loc.problem(&path, false, msg.into()));
    }

    pub(super) fn id(&mut self, path: Vec<Seg>, id: &str) {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.err(path, format!("id `{id}` must be 1 to 64 characters of a-z, 0-9, `_` or `-`"));
        }
    }

    /// Every amount in fen: 0 to [`bounds::FEN`], so that no sum of them can leave 64 bits.
    pub(super) fn money(&mut self, path: Vec<Seg>, v: i64) {
        if v < 0 {
            self.err(path, format!("money cannot be negative: {v}; give an amount in fen, 0 or more"));
        } else if v > bounds::FEN {
            self.err(path, format!("money must be at most {} fen (¥10,000,000,000,000), got {v}", bounds::FEN));
        }
    }

    /// 0 to `max`.
    pub(super) fn range(&mut self, path: Vec<Seg>, v: i64, max: i64, what: &str) {
        if v < 0 {
            self.err(path, format!("{what} cannot be negative: {v}"));
        } else if v > max {
            self.err(path, format!("{what} must be at most {max}, got {v}"));
        }
    }

    pub(super) fn bp(&mut self, path: Vec<Seg>, v: i64) {
        if !(0..=10_000).contains(&v) {
            self.err(path, format!("basis points must be 0 to 10000 (100%), got {v}"));
        }
    }

    /// `start < end`, both inside the festival.
    pub(super) fn window(&mut self, base: &[Seg], start_key: &str, end_key: &str, start: Ts, end: Ts, fest: (Ts, Ts)) {
        let at = |k: &str| {
            let mut p = base.to_vec();
            p.push(key(k));
            p
        };
        if end <= start {
            self.err(at(end_key), format!("`{end_key}` ({end}) must be after `{start_key}` ({start})"));
        }
        if start < fest.0 || start > fest.1 {
            self.err(
                at(start_key),
                format!("`{start_key}` ({start}) is outside the festival ({} to {})", fest.0, fest.1),
            );
        }
        if end < fest.0 || end > fest.1 {
            self.err(at(end_key), format!("`{end_key}` ({end}) is outside the festival ({} to {})", fest.0, fest.1));
        }
    }

    fn unique<'x>(&mut self, table: &str, ids: impl Iterator<Item = &'x str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.enumerate() {
            self.id(vec![key(table), Seg::Index(i), key("id")], id);
            if !seen.insert(id.to_string()) {
                self.err(vec![key(table), Seg::Index(i), key("id")], format!("duplicate {table} id `{id}`"));
            }
        }
        seen
    }
}

fn known(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none are defined".to_string()
    } else {
        format!("defined: {}", set.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))
    }
}

fn validate(f: &Festival, loc: &Locator<'_>, out: &mut Vec<Problem>) {
    let mut v = V { loc, out };
    let fest = (f.festival.start.0, f.festival.end.0);
    v.id(vec![key("festival"), key("id")], &f.festival.id);
    if f.festival.timezone != "Asia/Shanghai" {
        v.err(
            vec![key("festival"), key("timezone")],
            format!(
                "timezone `{}` is not supported; festival days are Asia/Shanghai days: use \"Asia/Shanghai\"",
                f.festival.timezone
            ),
        );
    }
    if fest.1 <= fest.0 {
        v.err(vec![key("festival"), key("end")], format!("`end` ({}) must be after `start` ({})", fest.1, fest.0));
    }
    if fest.1 .0 - fest.0 .0 > 366 * 86_400_000 {
        v.err(vec![key("festival"), key("end")], "a festival lasts at most 366 days");
    }
    v.window(&[key("registration")], "opens", "closes", f.registration.opens.0, f.registration.closes.0, fest);

    // Checkout: store layers first, red packets last, each layer once.
    let layers = &f.checkout.layers;
    for (i, l) in layers.iter().enumerate() {
        let at = vec![key("checkout"), key("layers"), Seg::Index(i)];
        if layers[..i].contains(l) {
            v.err(at, format!("layer `{}` is listed twice; list each layer once", l.as_str()));
        } else if *l != crate::kinds::Layer::RedPacket && layers[..i].contains(&crate::kinds::Layer::RedPacket) {
            v.err(at, format!("layer `{}` comes after red_packet; red_packet must be the last layer", l.as_str()));
        } else if l.is_store() && layers[..i].iter().any(|x| !x.is_store()) {
            v.err(
                at,
                format!(
                    "store layer `{}` comes after a cross-store layer; price_cut, store_fullcut and store_coupon must come before cross_store_fullcut, platform_coupon and red_packet",
                    l.as_str()
                ),
            );
        } else if *l != crate::kinds::Layer::RedPacket && layers[..i].contains(&crate::kinds::Layer::RedPacket) {
            v.err(at, format!("layer `{}` comes after red_packet; red_packet must be the last layer", l.as_str()));
        }
    }
    for (k, secs) in
        [("payment_timeout_s", f.checkout.payment_timeout_s), ("group_time_limit_s", f.checkout.group_time_limit_s)]
    {
        if !(60..=30 * 86_400).contains(&secs) {
            v.err(vec![key("checkout"), key(k)], format!("`{k}` must be 60 to 2592000 seconds (30 days), got {secs}"));
        }
    }

    for (k, n) in f.capacity.entries() {
        if !(1..=crate::limits::capacity::MAX).contains(&n) {
            v.err(
                vec![key("capacity"), key(k)],
                format!("`{k}` must be 1 to {} entries, got {n}", crate::limits::capacity::MAX),
            );
        }
    }

    // Phases: per layer, no overlaps.
    let phase_ids = v.unique("phases", f.phases.iter().map(|p| p.id.as_str()));
    let mut by_layer: BTreeMap<&str, Vec<(usize, Ts, Ts)>> = BTreeMap::new();
    for (i, p) in f.phases.iter().enumerate() {
        let base = [key("phases"), Seg::Index(i)];
        v.window(&base, "start", "end", p.start.0, p.end.0, fest);
        v.id(vec![key("phases"), Seg::Index(i), key("layer")], &p.layer);
        by_layer.entry(p.layer.as_str()).or_default().push((i, p.start.0, p.end.0));
    }
    for phases in by_layer.values_mut() {
        phases.sort_by_key(|&(_, s, _)| s);
        for w in phases.windows(2) {
            let ((a, _, a_end), (b, b_start, _)) = (w[0], w[1]);
            if b_start < a_end {
                v.err(
                    vec![key("phases"), Seg::Index(b), key("start")],
                    format!("phase `{}` starts before phase `{}` of the same layer ends ({a_end}); phases of one layer must not overlap", f.phases[b].id, f.phases[a].id),
                );
            }
        }
    }

    // Anchor tiers.
    let tier_ids = v.unique("anchor_tiers", f.anchor_tiers.iter().map(|t| t.id.as_str()));
    let mut thresholds = BTreeSet::new();
    for (i, t) in f.anchor_tiers.iter().enumerate() {
        v.range(
            vec![key("anchor_tiers"), Seg::Index(i), key("min_followers")],
            t.min_followers,
            crate::limits::FOLLOWERS,
            "min_followers",
        );
        if !thresholds.insert(t.min_followers) {
            v.err(
                vec![key("anchor_tiers"), Seg::Index(i), key("min_followers")],
                format!(
                    "two anchor tiers share min_followers = {}; each tier needs its own threshold",
                    t.min_followers
                ),
            );
        }
    }
    if !f.anchor_tiers.is_empty() && !thresholds.contains(&0) {
        v.err(vec![key("anchor_tiers")], "one anchor tier must have min_followers = 0 so that every anchor has a tier");
    }

    // Tracks.
    let track_ids = v.unique("tracks", f.tracks.iter().map(|t| t.id.as_str()));
    for (i, t) in f.tracks.iter().enumerate() {
        v.money(vec![key("tracks"), Seg::Index(i), key("budget_fen")], t.budget_fen);
    }
    let budgets: i128 = f.tracks.iter().map(|t| t.budget_fen.max(0) as i128).sum();
    if budgets > bounds::FEN as i128 {
        v.err(
            vec![key("tracks")],
            format!("the tracks' budget_fen add up to {budgets} fen; together they may be at most {} fen", bounds::FEN),
        );
    }
    let track_role = |id: &str| f.tracks.iter().find(|t| t.id == id).map(|t| t.role);

    // Programs.
    let program_ids = v.unique("programs", f.programs.iter().map(|p| p.id.as_str()));
    for (i, p) in f.programs.iter().enumerate() {
        let at = |k: &str| vec![key("programs"), Seg::Index(i), key(k)];
        if !track_ids.contains(&p.track) {
            v.err(
                at("track"),
                format!("program `{}` refers to undefined track `{}` ({})", p.id, p.track, known(&track_ids)),
            );
        } else if let Some(role) = track_role(&p.track) {
            if !p.roles.contains(&role) {
                v.err(
                    at("roles"),
                    format!(
                        "program `{}` is on the {} track but does not admit role `{}`",
                        p.id,
                        p.track,
                        role.as_str()
                    ),
                );
            }
        }
        if p.roles.is_empty() {
            v.err(at("roles"), "`roles` needs at least one of \"merchant\", \"anchor\", \"provider\"");
        }
        if let Some(tiers) = &p.anchor_tiers {
            for (j, t) in tiers.iter().enumerate() {
                if !tier_ids.contains(t) {
                    v.err(
                        vec![key("programs"), Seg::Index(i), key("anchor_tiers"), Seg::Index(j)],
                        format!("undefined anchor tier `{t}` ({})", known(&tier_ids)),
                    );
                }
            }
            if !p.roles.contains(&Role::Anchor) {
                v.err(at("anchor_tiers"), "`anchor_tiers` is set but `roles` does not include \"anchor\"");
            }
        }
        if p.brand_tiers.is_some() && !p.roles.contains(&Role::Merchant) {
            v.err(at("brand_tiers"), "`brand_tiers` is set but `roles` does not include \"merchant\"");
        }
        // A program's own window is checked where it is written; the default (the
        // registration window) was checked above.
        if p.enroll_opens.is_some() || p.enroll_closes.is_some() {
            let opens = p.enroll_opens.unwrap_or(f.registration.opens).0;
            let closes = p.enroll_closes.unwrap_or(f.registration.closes).0;
            v.window(&[key("programs"), Seg::Index(i)], "enroll_opens", "enroll_closes", opens, closes, fest);
        }
        if let Some(ph) = &p.phase {
            if !phase_ids.contains(ph) {
                v.err(
                    at("phase"),
                    format!("program `{}` refers to undefined phase `{ph}` ({})", p.id, known(&phase_ids)),
                );
            }
        }
    }

    // Reward tables.
    let table_ids = v.unique("reward_tables", f.reward_tables.iter().map(|t| t.id.as_str()));
    for (i, t) in f.reward_tables.iter().enumerate() {
        if t.bands.is_empty() {
            v.err(vec![key("reward_tables"), Seg::Index(i), key("bands")], "a reward table needs at least one band");
        }
        for (j, b) in t.bands.iter().enumerate() {
            let bp = |k: &str| vec![key("reward_tables"), Seg::Index(i), key("bands"), Seg::Index(j), key(k)];
            match (b.rank_from, b.rank_to, b.min_value) {
                (Some(from), Some(to), None) => {
                    if from < 1 || to < from {
                        v.err(bp("rank_to"), format!("rank band {from}..={to} must satisfy 1 <= rank_from <= rank_to"));
                    } else if to > bounds::RANK {
                        v.err(bp("rank_to"), format!("rank_to must be at most {}, got {to}", bounds::RANK));
                    }
                }
                (None, None, Some(min)) => v.range(bp("min_value"), min, bounds::VALUE, "min_value"),
                _ => v.err(
                    vec![key("reward_tables"), Seg::Index(i), key("bands"), Seg::Index(j)],
                    "a band is either by rank (`rank_from` and `rank_to`) or by threshold (`min_value`), not both or neither",
                ),
            }
            if b.items.len() > bounds::BAND_ITEMS {
                v.err(bp("items"), format!("a band has at most {} items, got {}", bounds::BAND_ITEMS, b.items.len()));
            }
            for (k, item) in b.items.iter().enumerate() {
                let ip = |kk: &str| {
                    vec![
                        key("reward_tables"),
                        Seg::Index(i),
                        key("bands"),
                        Seg::Index(j),
                        key("items"),
                        Seg::Index(k),
                        key(kk),
                    ]
                };
                if let Some(a) = item.amount_fen {
                    v.money(ip("amount_fen"), a);
                }
                if let Some(a) = item.cap_fen {
                    v.money(ip("cap_fen"), a);
                }
                if let Some(a) = item.share_bp {
                    v.bp(ip("share_bp"), a);
                }
                if let Some(a) = item.rebate_bp {
                    v.bp(ip("rebate_bp"), a);
                }
                if let Some(a) = item.impressions {
                    v.range(ip("impressions"), a, bounds::VALUE, "impressions");
                }
                if let Some(n) = item.name.as_ref().filter(|n| n.len() > crate::limits::NAME_BYTES) {
                    v.err(
                        ip("name"),
                        format!("`name` must be at most {} bytes, got {}", crate::limits::NAME_BYTES, n.len()),
                    );
                }
                let need = match item.kind {
                    RewardKind::Cash => item.amount_fen.is_some().then_some(()).ok_or("`amount_fen`"),
                    RewardKind::FentiaoCredit => (item.amount_fen.is_some() != item.share_bp.is_some())
                        .then_some(())
                        .ok_or("exactly one of `amount_fen` or `share_bp` (with an optional `cap_fen`)"),
                    RewardKind::TrafficPack => item.impressions.is_some().then_some(()).ok_or("`impressions`"),
                    RewardKind::AdRebate => item.rebate_bp.is_some().then_some(()).ok_or("`rebate_bp`"),
                    RewardKind::MainVenueSlot
                    | RewardKind::Pendant
                    | RewardKind::Badge
                    | RewardKind::CustomGameplay => item.name.is_some().then_some(()).ok_or("`name`"),
                };
                if let Err(what) = need {
                    v.err(
                        ip("kind"),
                        format!(
                            "a reward item of kind `{}` needs {what}",
                            serde_json::to_value(item.kind)
                                .ok()
                                .and_then(|x| x.as_str().map(String::from))
                                .unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }

    // Contests and challenges share their window and reference rules.
    struct Common<'x> {
        table: &'static str,
        id: &'x str,
        track: &'x str,
        program: Option<&'x String>,
        phase: Option<&'x String>,
        start: Option<When>,
        end: Option<When>,
        reward_table: &'x str,
    }
    let contest_ids = v.unique("contests", f.contests.iter().map(|c| c.id.as_str()));
    let _ = contest_ids;
    let challenge_ids = v.unique("challenges", f.challenges.iter().map(|c| c.id.as_str()));
    let _ = challenge_ids;
    let commons = f
        .contests
        .iter()
        .map(|c| Common {
            table: "contests",
            id: &c.id,
            track: &c.track,
            program: c.program.as_ref(),
            phase: c.phase.as_ref(),
            start: c.start,
            end: c.end,
            reward_table: &c.reward_table,
        })
        .enumerate()
        .chain(
            f.challenges
                .iter()
                .map(|c| Common {
                    table: "challenges",
                    id: &c.id,
                    track: &c.track,
                    program: c.program.as_ref(),
                    phase: c.phase.as_ref(),
                    start: c.start,
                    end: c.end,
                    reward_table: &c.reward_table,
                })
                .enumerate(),
        );
    for (i, c) in commons {
        let at = |k: &str| vec![key(c.table), Seg::Index(i), key(k)];
        if !track_ids.contains(c.track) {
            v.err(at("track"), format!("`{}` refers to undefined track `{}` ({})", c.id, c.track, known(&track_ids)));
        }
        if let Some(p) = c.program {
            if !program_ids.contains(p) {
                v.err(at("program"), format!("`{}` refers to undefined program `{p}` ({})", c.id, known(&program_ids)));
            } else if let Some(prog) = f.programs.iter().find(|x| &x.id == p) {
                if prog.track != c.track {
                    v.err(
                        at("program"),
                        format!(
                            "`{}` is on track `{}` but its program `{p}` is on track `{}`",
                            c.id, c.track, prog.track
                        ),
                    );
                }
            }
        }
        if !table_ids.contains(c.reward_table) {
            v.err(
                at("reward_table"),
                format!("`{}` refers to undefined reward table `{}` ({})", c.id, c.reward_table, known(&table_ids)),
            );
        }
        match (c.phase, c.start, c.end) {
            (Some(ph), None, None) => {
                if !phase_ids.contains(ph) {
                    v.err(at("phase"), format!("`{}` refers to undefined phase `{ph}` ({})", c.id, known(&phase_ids)));
                }
            }
            (None, Some(s), Some(e)) => v.window(&[key(c.table), Seg::Index(i)], "start", "end", s.0, e.0, fest),
            _ => v.err(
                vec![key(c.table), Seg::Index(i), key("id")],
                format!("`{}` needs a window: either `phase`, or both `start` and `end`", c.id),
            ),
        }
    }
    let track_role = |t: &str| f.tracks.iter().find(|x| x.id == t).map(|x| x.role);
    let no_heat = "metric \"heat\" needs a [heat] table: the heat value's formula";
    for (i, c) in f.contests.iter().enumerate() {
        let at = |k: &str| vec![key("contests"), Seg::Index(i), key(k)];
        if let Some(g) = &c.group_by {
            if g != "category" {
                v.err(at("group_by"), format!("`group_by` accepts only \"category\", got \"{g}\""));
            } else if track_role(&c.track).is_some_and(|r| r != Role::Merchant) {
                v.err(at("group_by"), "`group_by = \"category\"` needs a merchant track: categories are merchants'");
            }
        }
        if c.metric == Metric::Heat && f.heat.is_none() {
            v.err(at("metric"), no_heat);
        }
        if c.metric == Metric::GmvGrowth && c.period == Period::Daily {
            v.err(at("period"), "metric \"gmv_growth\" ranks the whole window; use period \"whole\"");
        }
        // Growth is of the GMV of the merchants a provider serves: only providers have it.
        if c.metric == Metric::GmvGrowth && track_role(&c.track).is_some_and(|r| r != Role::Provider) {
            v.err(
                at("metric"),
                "metric \"gmv_growth\" ranks providers by their merchants' growth: it needs a provider track",
            );
        }
        if c.metric == Metric::GmvGrowth && c.group_by.is_some() {
            v.err(at("group_by"), "metric \"gmv_growth\" ranks the whole window, not by category");
        }
        if let Some(score) = c.gates.min_experience_score {
            if super::score_hundredths(score).is_none() {
                v.err(
                    vec![key("contests"), Seg::Index(i), key("gates"), key("min_experience_score")],
                    format!("min_experience_score must be 0.00 to 5.00 with at most two decimals, got {score}"),
                );
            }
        }
        if let Some(m) = c.gates.min_session_gmv_fen {
            v.money(vec![key("contests"), Seg::Index(i), key("gates"), key("min_session_gmv_fen")], m);
        }
        match (c.metric, &c.growth) {
            (Metric::GmvGrowth, None) => v.err(
                at("metric"),
                "metric \"gmv_growth\" needs a [contests.growth] table with baseline_start, baseline_end and floor_fen",
            ),
            (Metric::GmvGrowth, Some(g)) => {
                v.money(vec![key("contests"), Seg::Index(i), key("growth"), key("floor_fen")], g.floor_fen);
                if g.floor_fen == 0 {
                    v.err(
                        vec![key("contests"), Seg::Index(i), key("growth"), key("floor_fen")],
                        "floor_fen must be above 0 so that a tiny baseline cannot dominate",
                    );
                }
                if g.baseline_end.0 <= g.baseline_start.0 {
                    v.err(
                        vec![key("contests"), Seg::Index(i), key("growth"), key("baseline_end")],
                        "baseline_end must be after baseline_start",
                    );
                }
            }
            (_, Some(_)) => v.err(at("growth"), "a `growth` table only applies to metric \"gmv_growth\""),
            _ => {}
        }
    }
    for (i, c) in f.challenges.iter().enumerate() {
        if c.targets.is_empty() {
            v.err(vec![key("challenges"), Seg::Index(i), key("targets")], "a challenge needs at least one target");
        }
        if c.metric == Metric::GmvGrowth {
            v.err(vec![key("challenges"), Seg::Index(i), key("metric")], "challenges take metric \"gmv\" or \"heat\"");
        }
        if c.metric == Metric::Heat && f.heat.is_none() {
            v.err(vec![key("challenges"), Seg::Index(i), key("metric")], no_heat);
        }
        let anchors = track_role(&c.track).is_none_or(|r| r == Role::Anchor);
        let mut seen = BTreeSet::new();
        for (j, t) in c.targets.iter().enumerate() {
            let tp = |k: &str| vec![key("challenges"), Seg::Index(i), key("targets"), Seg::Index(j), key(k)];
            if t.tier != "all" && !tier_ids.contains(&t.tier) {
                v.err(
                    tp("tier"),
                    format!("undefined anchor tier `{}` (use \"all\" or a tier: {})", t.tier, known(&tier_ids)),
                );
            }
            if !anchors && t.tier != "all" {
                v.err(
                    tp("tier"),
                    "only anchors have tiers: a challenge on this track takes one target with tier \"all\"",
                );
            }
            if !seen.insert(t.tier.clone()) {
                v.err(tp("tier"), format!("two targets for tier `{}`", t.tier));
            }
            v.money(tp("target_fen"), t.target_fen);
        }
    }

    if let Some(h) = &f.heat {
        let hp = |k: &str| vec![key("heat"), key(k)];
        let coef = bounds::HEAT_COEFFICIENT_BP;
        v.range(hp("gmv_coefficient_bp"), h.gmv_coefficient_bp, coef, "gmv_coefficient_bp");
        for (cat, c) in &h.category_coefficients_bp {
            let at = vec![key("heat"), key("category_coefficients_bp"), key(cat)];
            v.range(at, *c, coef, "a category coefficient");
        }
        for (k, x, max) in [
            ("live_points", h.live_points, bounds::HEAT_POINTS),
            ("live_min_minutes", h.live_min_minutes, 1440),
            ("viewer_points_per_100", h.viewer_points_per_100, bounds::HEAT_POINTS),
            ("interaction_points_per_100", h.interaction_points_per_100, bounds::HEAT_POINTS),
            ("daily_cap", h.daily_cap, crate::limits::HEAT_DAY),
        ] {
            v.range(hp(k), x, max, k);
        }
    }
    if let Some(s) = &f.support {
        v.money(vec![key("support"), key("provider_incentive_fen")], s.provider_incentive_fen);
        for (k, x) in [
            ("traffic_multiple", s.traffic_multiple),
            ("merchant_incentive_multiple", s.merchant_incentive_multiple),
            ("consumer_benefit_multiple", s.consumer_benefit_multiple),
        ] {
            v.range(vec![key("support"), key(k)], x, bounds::MULTIPLE, k);
        }
        v.range(vec![key("support"), key("tolerance_bp")], s.tolerance_bp, 10_000, "tolerance_bp");
    }

    if let Some(t) = &f.traffic {
        super::traffic::validate(f, t, &mut v);
    }
    let _ = v.unique("figures", f.figures.iter().map(|x| x.id.as_str()));
    for (i, fig) in f.figures.iter().enumerate() {
        let at = |k: &str| vec![key("figures"), Seg::Index(i), key(k)];
        match fig.metric {
            FigureMetric::SkaBrandsGmvAtLeast => match fig.threshold_fen {
                Some(t) => v.money(at("threshold_fen"), t),
                None => v.err(at("metric"), "metric \"ska_brands_gmv_at_least\" needs `threshold_fen`"),
            },
            FigureMetric::AnchorTierGmvShare => {
                match &fig.tier {
                    Some(t) if tier_ids.contains(t) => {}
                    Some(t) => v.err(at("tier"), format!("undefined anchor tier `{t}` ({})", known(&tier_ids))),
                    None => v.err(at("metric"), "metric \"anchor_tier_gmv_share\" needs `tier`"),
                }
                if let Some(m) = &fig.month {
                    let ok = m.len() == 7 && crate::time::Day::parse(&format!("{m}-01")).is_some();
                    if !ok {
                        v.err(at("month"), format!("`month` must be YYYY-MM, got \"{m}\""));
                    }
                }
            }
            _ => {}
        }
        figure_bounds(&mut v, fig, &at);
    }
}

/// `min` and `max` of a figure: within the metric's unit's range, `min` ≤ `max`.
fn figure_bounds(v: &mut V<'_, '_>, fig: &Figure, at: &dyn Fn(&str) -> Vec<Seg>) {
    let unit = fig.metric.unit();
    let top = if unit == "bp" { 10_000 } else { bounds::VALUE };
    for (k, x) in [("min", fig.min), ("max", fig.max)] {
        if let Some(x) = x {
            v.range(at(k), x, top, k);
        }
    }
    if let (Some(lo), Some(hi)) = (fig.min, fig.max) {
        if lo > hi {
            v.err(at("max"), format!("`max` ({hi}) is below `min` ({lo}): give min ≤ max"));
        }
    }
}
