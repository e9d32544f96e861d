//! Joining chunks into batches, without a server: whatever the cut points, the records
//! come back as they were framed, along the chain; a torn batch before a new one is
//! dropped and reported; any damaged byte or misplaced chunk is refused.

use dacu_jetstream::read::Assembler;
use dacu_log::chain::{self, Chain, Hasher};
use dacu_log::segment;
use proptest::prelude::*;

const LOG_ID: [u8; 16] = [7; 16];

/// Frames `payloads` as one batch from event `first`, after chain value `prev`.
fn batch(first: u64, prev: &Chain, payloads: &[Vec<u8>]) -> (Vec<u8>, Chain) {
    let mut buf = Vec::new();
    let mut h = Hasher::new(prev);
    let mut last = (0, 0);
    for (i, p) in payloads.iter().enumerate() {
        last = segment::push_record(&mut buf, first + i as u64, p);
        h.add(first + i as u64, last.1);
    }
    let chain = h.finish();
    segment::seal(&mut buf, last.0, last.1, &chain);
    (buf, chain)
}

/// Cuts `bytes` into `n` chunks at the given fractions.
fn cut(bytes: &[u8], cuts: &[u16]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|&c| c as usize * bytes.len() / u16::MAX as usize).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

type Batches = Vec<(Vec<Vec<u8>>, Vec<u16>, bool)>;

fn batches() -> impl Strategy<Value = Batches> {
    let payloads = prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 1..6);
    let cuts = prop::collection::vec(any::<u16>(), 0..4);
    prop::collection::vec((payloads, cuts, any::<bool>()), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunks_join_into_the_framed_records_and_torn_ones_are_dropped(bs in batches()) {
        let genesis = chain::genesis(&LOG_ID);
        let mut asm = Assembler::new(LOG_ID, 0, genesis, 1);
        let (mut prev, mut next, mut stream_seq) = (genesis, 1u64, 1u64);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        let mut torn = 0;
        for (payloads, cuts, tear_first) in &bs {
            let (bytes, chain) = batch(next, &prev, payloads);
            let last = next + payloads.len() as u64 - 1;
            let chunks = cut(&bytes, cuts);
            let n = chunks.len() as u32;
            if *tear_first && n > 1 {
                // A writer that died after its first chunk, then the batch written again.
                stream_seq += 1;
                asm.push(stream_seq, &format!("{next} {last} 0 {n}"), &chunks[0], &mut |_, _| Ok(())).unwrap();
                torn += 1;
            }
            for (i, c) in chunks.iter().enumerate() {
                stream_seq += 1;
                asm.push(stream_seq, &format!("{next} {last} {i} {n}"), c, &mut |recs, ch| {
                    got.extend(recs.iter().map(|(s, p)| (*s, p.to_vec())));
                    assert_eq!(ch, chain);
                    Ok(())
                }).unwrap();
            }
            want.extend(payloads.iter().enumerate().map(|(i, p)| (next + i as u64, p.clone())));
            prev = chain;
            next = last + 1;
        }
        let r = asm.finish();
        prop_assert_eq!(got, want);
        prop_assert_eq!(r.last_seq, next - 1);
        prop_assert_eq!(r.chain, prev);
        prop_assert_eq!(r.torn.len(), torn);
        prop_assert_eq!(r.stream_last, stream_seq);
    }

    #[test]
    fn a_damaged_byte_is_refused(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 1..6),
                                 at in any::<u16>(), flip in 1u8..) {
        let genesis = chain::genesis(&LOG_ID);
        let (mut bytes, _) = batch(1, &genesis, &payloads);
        let i = at as usize % bytes.len();
        bytes[i] ^= flip;
        let last = payloads.len() as u64;
        let mut asm = Assembler::new(LOG_ID, 0, genesis, 1);
        let r = asm.push(2, &format!("1 {last} 0 1"), &bytes, &mut |_, _| Ok(()));
        prop_assert!(r.is_err(), "byte {} flipped and accepted", i);
    }
}

#[test]
fn misplaced_chunks_and_bad_headers_are_refused() {
    let genesis = chain::genesis(&LOG_ID);
    let (bytes, _) = batch(1, &genesis, &[vec![1, 2, 3], vec![4]]);
    let (a, b) = bytes.split_at(10);
    let ok = |_: &[(u64, &[u8])], _: Chain| Ok(());
    // A chunk 1 with no chunk 0.
    assert!(Assembler::new(LOG_ID, 0, genesis, 1).push(2, "1 2 1 2", b, &mut { ok }).is_err());
    // A batch that does not start where the log ends.
    assert!(Assembler::new(LOG_ID, 0, genesis, 1).push(2, "5 6 0 1", &bytes, &mut { ok }).is_err());
    // A chunk of another batch in the middle.
    let mut asm = Assembler::new(LOG_ID, 0, genesis, 1);
    asm.push(2, "1 2 0 2", a, &mut { ok }).unwrap();
    assert!(asm.push(3, "1 3 1 2", b, &mut { ok }).is_err());
    // A header that claims other events than the records hold.
    assert!(Assembler::new(LOG_ID, 0, genesis, 1).push(2, "1 3 0 1", &bytes, &mut { ok }).is_err());
    // Another log's chain.
    let other = chain::genesis(&[8; 16]);
    assert!(Assembler::new(LOG_ID, 0, other, 1).push(2, "1 2 0 1", &bytes, &mut { ok }).is_err());
    for bad in ["", "1 2 0", "0 1 0 1", "2 1 0 1", "1 2 1 1", "1 2 0 0", "1 2 0 5000", "a b c d"] {
        let e = Assembler::new(LOG_ID, 0, genesis, 1).push(2, bad, &bytes, &mut { ok }).unwrap_err();
        assert!(e.contains("FIRST_SEQ LAST_SEQ CHUNK CHUNKS"), "{bad}: {e}");
    }
    // Whole, it is taken.
    let mut n = 0;
    let mut asm = Assembler::new(LOG_ID, 0, genesis, 1);
    asm.push(2, "1 2 0 2", a, &mut |_, _| Ok(())).unwrap();
    asm.push(3, "1 2 1 2", b, &mut |r, _| {
        n = r.len();
        Ok(())
    })
    .unwrap();
    assert_eq!((n, asm.finish().last_seq), (2, 2));
}
