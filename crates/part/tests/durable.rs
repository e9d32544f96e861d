//! Durable partitions: the simulated festival on 1, 2 and 4 partition threads, each with
//! its log in a data directory of its own, stopped part way and reopened from the
//! directories alone, ends as the single engine does — every answer after the reopening,
//! the state digest and the report of the projection, every coupon's claims — and the
//! reopened partitions hold what the stopped ones held. Reads at barriers, taken while
//! the commands run, never go back, change no answer, and after the last answer read
//! the whole projection. A directory is opened only as the
//! number of partitions it holds.

mod common;

use common::{festival_commands, mini, MINI};
use dacu_core::{Command, Engine, Event};
use dacu_part::{durable, Answer, Cluster, Partitioned};

fn one_engine(e: &mut Engine, c: &Command) -> Result<Vec<Event>, dacu_core::Code> {
    let mut out = Vec::new();
    e.execute(c, &mut out).map(|()| out).map_err(|r| r.code)
}

fn code(a: &Answer) -> Result<(), dacu_core::Code> {
    match a {
        Answer::Accepted(_) => Ok(()),
        Answer::Rejected(r) => Err(r.code),
        other => panic!("{other:?}"),
    }
}

fn digest(e: &Engine) -> String {
    dacu_core::digest::digest(e.state())
}

fn open(dir: &std::path::Path, festival: Option<&str>, n: u32) -> Partitioned {
    durable::open(dir, festival, n, dacu_log::Options::default).unwrap()
}

#[test]
fn the_festival_on_durable_partitions_reopened_part_way_ends_as_one_engine() {
    let f = mini();
    let commands = festival_commands(&f);
    let mut one = Engine::new(f.clone());
    let want: Vec<_> = commands.iter().map(|c| one_engine(&mut one, c).map(|_| ())).collect();
    // Reopened after the mid-festival settlement and again before the last one.
    let cuts = [commands.len() / 3, commands.len() - 1];
    for n in [1, 2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let mut parts = open(dir.path(), Some(MINI), n);
        let mut from = 0;
        for to in cuts.into_iter().chain([commands.len()]) {
            let cluster = Cluster::start(parts);
            // Reads at barriers while the commands run: each a cut no earlier than the last.
            let done = std::sync::atomic::AtomicBool::new(false);
            let (answers, seen) = std::thread::scope(|s| {
                let reader = s.spawn(|| {
                    let mut seen = Vec::new();
                    while !done.load(std::sync::atomic::Ordering::Acquire) {
                        seen.push(cluster.read(|e| e.state().events).unwrap());
                    }
                    seen
                });
                let answers = cluster.run(&commands[from..to], 64);
                done.store(true, std::sync::atomic::Ordering::Release);
                (answers, reader.join().unwrap())
            });
            assert!(seen.windows(2).all(|w| w[0] <= w[1]), "reads went back with {n}");
            let got: Vec<_> = answers.iter().map(code).collect();
            assert_eq!(
                got,
                want[from..to],
                "answers {from}..{to} with {n} durable partitions (read {} times)",
                seen.len()
            );
            let read = cluster.read(digest).unwrap();
            let stopped = cluster.stop();
            let held = digest(&stopped.projection());
            assert_eq!(read, held, "a read after the answers with {n}");
            let events: Vec<u64> = stopped.parts.iter().map(|p| p.engine().state().events).collect();
            drop(stopped);
            parts = open(dir.path(), None, n);
            assert_eq!(digest(&parts.projection()), held, "the projection reopened at {to} with {n}");
            let again: Vec<u64> = parts.parts.iter().map(|p| p.engine().state().events).collect();
            assert_eq!(again, events, "each partition's events reopened at {to} with {n}");
            from = to;
        }
        let merged = parts.projection();
        assert_eq!(digest(&merged), digest(&one), "the state of the reopened partitions with {n}");
        let report = |e: &Engine| serde_json::to_value(dacu_core::view::report(&f, e.state())).unwrap();
        assert_eq!(report(&merged), report(&one), "the report of the reopened partitions with {n}");
        let st = one.state();
        for coupon in st.market.coupon_ids.names() {
            let ci = st.market.coupon_ids.get(coupon).unwrap() as usize;
            assert_eq!(parts.claimed(coupon), st.market.coupons[ci].claimed, "{coupon} with {n}");
            assert!(parts.escrow.out(coupon) <= st.market.coupons[ci].stock, "{coupon} with {n}");
        }
    }
}

#[test]
fn a_directory_opens_only_as_the_partitions_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let none = durable::open(dir.path(), None, 2, dacu_log::Options::default).err().unwrap();
    assert!(none.contains("holds no partitions"), "{none}");
    let too_many = durable::open(dir.path(), Some(MINI), 65, dacu_log::Options::default).err().unwrap();
    assert!(too_many.contains("1 to 64"), "{too_many}");
    let mut parts = open(dir.path(), Some(MINI), 2);
    let line = r#"{"type":"register_merchant","merchant":"m1","name":"Beauty","brand_tier":"ska","category":"beauty"}"#;
    parts.execute(&dacu_core::parse_line(line).unwrap()).unwrap().unwrap();
    parts.commit().unwrap();
    drop(parts);
    for n in [1, 4] {
        let e = durable::open(dir.path(), Some(MINI), n, dacu_log::Options::default).err().unwrap();
        assert!(e.contains("--partitions 2"), "{e}");
    }
    assert_eq!(durable::existing(dir.path()), 2, "a refused open creates nothing");
    let parts = open(dir.path(), None, 2);
    assert!(parts.parts.iter().all(|p| p.engine().state().merchant_ids.get("m1").is_some()));
}

/// Every command answered accepted with events, sent again to the reopened partitions,
/// is taken for a resend: it is in its partition's log. The number checked.
fn every_acknowledged_is_logged(parts: &mut Partitioned, commands: &[Command], answers: &[Answer], n: u32) -> usize {
    let mut checked = 0;
    for (c, a) in commands.iter().zip(answers) {
        let (Answer::Accepted(events), Some(_), false) = (a, c.command_id(), matches!(c, Command::Tick(_))) else {
            continue;
        };
        if events.is_empty() {
            continue;
        }
        let again = parts.execute(c).unwrap();
        assert_eq!(again, Ok(Vec::new()), "{} acknowledged before the crash, resent after it, with {n}", c.type_name());
        checked += 1;
    }
    checked
}

/// The disk fails every fsync from a point in the festival on, as a crash before the
/// fsync would; the bytes written since the last good one are then lost (or, with 4
/// partitions, kept: both are what a crash may leave). Reopened from the directories,
/// the partitions hold every command that was answered accepted.
#[test]
fn a_crash_mid_festival_loses_nothing_acknowledged() {
    let f = mini();
    let commands = festival_commands(&f);
    for n in [2u32, 4] {
        let dir = tempfile::tempdir().unwrap();
        let io = dacu_log::io::FaultyIo::default();
        let faulty = io.clone();
        let options = move || dacu_log::Options { io: std::sync::Arc::new(faulty.clone()), ..Default::default() };
        let parts = durable::open(dir.path(), Some(MINI), n, options).unwrap();
        let cluster = Cluster::start(parts);
        let half = commands.len() as u64 / 2;
        let answers = std::thread::scope(|s| {
            s.spawn(|| {
                while cluster.answered() < half {
                    std::thread::yield_now();
                }
                io.faults.lock().unwrap().crash_at_sync = true;
            });
            cluster.run(&commands, 64)
        });
        drop(cluster.stop());
        let failed = answers.iter().filter(|a| matches!(a, Answer::Failed(_))).count();
        let accepted = answers.iter().filter(|a| matches!(a, Answer::Accepted(_))).count();
        assert!(failed > commands.len() / 4 && accepted > commands.len() / 4, "{failed} failed, {accepted} accepted");
        if n == 2 {
            // Files written through the I/O and renamed since (made durable first) are gone.
            for (path, synced, _) in io.faults.lock().unwrap().files.iter().filter(|(p, ..)| p.exists()) {
                std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(*synced).unwrap();
            }
        }
        let mut parts = open(dir.path(), None, n);
        let checked = every_acknowledged_is_logged(&mut parts, &commands, &answers, n);
        assert!(checked > 1_000, "too few acknowledged commands to mean anything: {checked}");
    }
}
