//! A `tracing` subscriber that records events with their fields and the fields of the spans they are in.

#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub target: String,
    pub level: Level,
    /// The event's own fields, as text (`message` included).
    pub fields: HashMap<String, String>,
    /// The fields of the spans the event happened in, innermost last.
    pub span_fields: HashMap<String, String>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Records every event logged while `future` runs on this thread; returns those under `target`.
pub async fn record<T>(target: &'static str, future: impl Future<Output = T>) -> (Vec<Recorded>, T) {
    let recorder = Recorder::default();
    let events = Arc::clone(&recorder.events);
    let dispatch = tracing::Dispatch::new(recorder);
    let output = {
        let _guard = tracing::dispatcher::set_default(&dispatch);
        future.await
    };
    let events = events.lock().unwrap().iter().filter(|event| event.target == target).cloned().collect();
    (events, output)
}

#[derive(Default)]
struct Recorder {
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, HashMap<String, String>>>,
    events: Arc<Mutex<Vec<Recorded>>>,
}

thread_local! {
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = HashMap::new();
        span.record(&mut Fields(&mut fields));
        self.spans.lock().unwrap().insert(id, fields);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(fields) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let mut span_fields = HashMap::new();
        let spans = self.spans.lock().unwrap();
        STACK.with(|stack| {
            for id in stack.borrow().iter() {
                if let Some(fields) = spans.get(id) {
                    span_fields.extend(fields.clone());
                }
            }
        });
        let metadata = event.metadata();
        self.events.lock().unwrap().push(Recorded {
            target: metadata.target().to_owned(),
            level: *metadata.level(),
            fields,
            span_fields,
        });
    }
    fn enter(&self, span: &Id) {
        STACK.with(|stack| stack.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, span: &Id) {
        STACK.with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(position) = stack.iter().rposition(|id| *id == span.into_u64()) {
                stack.remove(position);
            }
        });
    }
}
