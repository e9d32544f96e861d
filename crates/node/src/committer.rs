//! The committer: makes each batch the writer hands over durable through the event log,
//! publishes the durable position, then answers the batch's requests. It runs beside the
//! writer, so the writer executes the next batch while an fsync is in flight.

use crate::handoff::Handoff;
use crate::shared::Shared;
use dacu_log::EventLog;
use std::sync::Arc;

pub(crate) fn run<L: EventLog>(mut log: L, handoff: &Handoff, shared: Arc<Shared>) -> L {
    while let Some(work) = handoff.take() {
        let t0 = std::time::Instant::now();
        let result = match &work.batch {
            Some(b) => log.append(b).map(|c| c.last_seq),
            None => Ok(log.durable_seq()),
        };
        if let (Some(b), Ok(_)) = (&work.batch, &result) {
            let events = b.last_seq + 1 - b.first_seq;
            metrics::histogram!("dacu_commit_seconds").record(t0.elapsed().as_secs_f64());
            metrics::histogram!("dacu_batch_events").record(events as f64);
            metrics::histogram!("dacu_batch_requests").record(work.replies.len() as f64);
            metrics::counter!("dacu_events_total").increment(events);
        }
        match result {
            Ok(seq) => {
                shared.durable.set(seq);
                work.answer(seq, None);
            }
            Err(e) => {
                let why = e.to_string();
                shared.poison(why.clone());
                work.answer(log.durable_seq(), Some(&why));
            }
        }
        handoff.done();
    }
    log
}
