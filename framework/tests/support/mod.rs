//! Helpers shared by the integration tests.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Counts the events logged under `target` while `future` runs on this thread.
pub(crate) async fn count_events<T>(target: &'static str, future: impl Future<Output = T>) -> (usize, T) {
    let counter = Counter { target, count: Arc::new(AtomicUsize::new(0)) };
    let count = Arc::clone(&counter.count);
    let dispatch = tracing::Dispatch::new(counter);
    let output = {
        let _guard = tracing::dispatcher::set_default(&dispatch);
        future.await
    };
    (count.load(Ordering::SeqCst), output)
}

struct Counter {
    target: &'static str,
    count: Arc<AtomicUsize>,
}

impl Subscriber for Counter {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == self.target {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}
