//! DefaultHeaders: `Date`, `Server` and headers of your own on every response, unless the response has them.
//!
//! ```
//! use rotor::plugins::default_headers::DefaultHeaders;
//! use rotor::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = rotor_test::test_application(|app| {
//!     app.install_with(DefaultHeaders, |config| {
//!         config.server("Example/1.0").header("X-Frame-Options", "DENY");
//!     });
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
//!     });
//! })
//! .await;
//! let response = app.client().get("/").send().await;
//! assert_eq!(response.header("server"), Some("Example/1.0"));
//! assert_eq!(response.header("x-frame-options"), Some("DENY"));
//! assert!(response.header("date").is_some());
//! # }
//! ```

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, DATE, Entry, SERVER};
use http::{HeaderName, HeaderValue};

use crate::application::{Plugin, PluginBuilder};
use crate::call::{
    ApplicationCall, ApplicationSendPipeline, DefaultFields, MAX_DEFERRED, OutgoingContent, ResponseDefaults,
    ResponseValue,
};
use crate::pipeline::in_place;
use crate::{Error, Result};

/// The `Server` header DefaultHeaders sends unless configured otherwise.
pub const DEFAULT_SERVER: &str = concat!("Rotor/", env!("CARGO_PKG_VERSION"));

/// The plugin (Ktor's `DefaultHeaders`): adds `Date` (formatted at most once a second per thread and shared
/// between the calls of that second), `Server` (`Rotor/<version>` by default) and configured headers to every response.
///
/// A header already on the response, set by the handler or by a plugin (on the response or on the
/// [`OutgoingContent`]), is never overridden. The headers are added in the send
/// pipeline's After phase, so they reach every answer that goes through the send pipeline: handler responses,
/// 404/405 answers for unhandled calls, and error answers.
///
/// An engine that writes `Date` itself on every response that lacks one (the hyper engine does, from the same
/// system clock, formatted once a second) is left to do so: the response still carries `Date`, without a
/// header-map entry per call. There, `Date` is not among `call.response().headers()` (for a `ResponseSent` hook
/// or a later interceptor), as it is with the in-memory test engine. With a
/// [`clock`](DefaultHeadersConfig::clock) of your own, DefaultHeaders always sets `Date` from it.
///
/// An engine that writes the answer's head from its parts (rotor-cio; see
/// [`ApplicationRequest::with_engine_parts`](crate::call::ApplicationRequest::with_engine_parts)) gets `Server`
/// and the configured headers set aside on the response rather than inserted into its header map, and writes
/// each one the response does not have itself: no map entry, and no map at all for an answer that sets no header
/// of its own. Anything that looks at `call.response().headers()` (a later interceptor, a hook) sees them there,
/// inserted the moment it looks.
///
/// The list of `Server` and configured headers is interned at install: an equal list installed again (by another
/// application of the process, as tests make them) is the same one, kept for the life of the process, so that
/// each response refers to it without a reference count. A process keeps at most 64 distinct lists this way;
/// beyond that, lists are shared by reference count and freed with their application.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultHeaders;

/// The configuration of [`DefaultHeaders`].
pub struct DefaultHeadersConfig {
    headers: Vec<(String, String)>,
    server: Option<String>,
    date: bool,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
    /// True once [`clock`](Self::clock) set a clock of its own: `Date` then always comes from it.
    own_clock: bool,
}

impl Default for DefaultHeadersConfig {
    fn default() -> Self {
        DefaultHeadersConfig {
            headers: Vec::new(),
            server: Some(DEFAULT_SERVER.to_owned()),
            date: true,
            clock: Arc::new(SystemTime::now),
            own_clock: false,
        }
    }
}

impl fmt::Debug for DefaultHeadersConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultHeadersConfig")
            .field("headers", &self.headers)
            .field("server", &self.server)
            .field("date", &self.date)
            .finish_non_exhaustive()
    }
}

impl DefaultHeadersConfig {
    /// Adds a header to every response that does not have one of that name. Several values of one name are
    /// all sent. The name and value are checked at install, which fails naming the header if either is invalid.
    pub fn header(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `Server` header's value (default [`DEFAULT_SERVER`]).
    pub fn server(&mut self, value: impl Into<String>) -> &mut Self {
        self.server = Some(value.into());
        self
    }

    /// Sends no `Server` header.
    pub fn no_server(&mut self) -> &mut Self {
        self.server = None;
        self
    }

    /// Whether to send `Date` (default true; an engine may add its own when this is off).
    pub fn date(&mut self, enabled: bool) -> &mut Self {
        self.date = enabled;
        self
    }

    /// The clock `Date` is read from (default [`SystemTime::now`]); for tests.
    pub fn clock(&mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> &mut Self {
        self.clock = Arc::new(clock);
        self.own_clock = true;
        self
    }
}

/// What DefaultHeaders keeps: the parsed headers and the `Date` cache.
pub struct DefaultHeadersInstance {
    /// By name, in the order configured; all values of a name are sent, or none if the response has it.
    headers: DefaultFields,
    /// The mask of every name of `headers` (when there are at most [`MAX_DEFERRED`]), and the same without
    /// `Content-Type`: the defaults of an answer whose content has no fields of its own but its type.
    every: u64,
    every_but_content_type: u64,
    date: Option<DateCache>,
    /// True when `Date` may be left to an engine that writes it ([`ApplicationRequest::engine_writes_date`]):
    /// the clock is the system's, so the engine's `Date` is the same one.
    ///
    /// [`ApplicationRequest::engine_writes_date`]: crate::call::ApplicationRequest::engine_writes_date
    engine_date: bool,
}

impl fmt::Debug for DefaultHeadersInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultHeadersInstance")
            .field("headers", &self.headers)
            .field("date", &self.date.is_some())
            .finish()
    }
}

impl DefaultHeadersInstance {
    /// The `Date` value for now: the cached one if it is of the current second.
    pub fn date(&self) -> Option<HeaderValue> {
        self.date.as_ref().map(DateCache::get)
    }

    fn apply(&self, subject: &ResponseValue, call: &ApplicationCall) {
        // An engine that writes `Date` itself does it from the same system clock, without a header-map entry.
        let date = if self.engine_date && call.request().engine_writes_date() { None } else { self.date() };
        let content = subject.content();
        let response = call.response();
        if let Some(date) = date.filter(|_| !in_content(content, &DATE)) {
            if let Entry::Vacant(entry) = response.headers_mut().entry(DATE) {
                entry.insert(date);
            }
        }
        if self.headers.len() <= MAX_DEFERRED && call.request().engine_takes_parts() {
            // Set aside rather than inserted, for an engine that writes them itself: the response's map is made
            // only if something looks at it (see `ResponseDefaults`).
            let mask = match content {
                None => self.every,
                Some(content) if content.headers().is_empty() => {
                    if content.content_type().is_some() {
                        self.every_but_content_type
                    } else {
                        self.every
                    }
                }
                Some(_) => self
                    .headers
                    .iter()
                    .enumerate()
                    .filter(|(_, (name, _))| !in_content(content, name))
                    .fold(0u64, |mask, (index, _)| mask | 1 << index),
            };
            if mask != 0 {
                response.defer_defaults(ResponseDefaults::new(self.headers.clone(), mask));
            }
            return;
        }
        let mut headers = response.headers_mut();
        for (name, values) in self.headers.iter().filter(|(name, _)| !in_content(content, name)) {
            let Some((first, rest)) = values.split_first() else { continue };
            if let Entry::Vacant(entry) = headers.entry(name) {
                let mut entry = entry.insert_entry(first.clone());
                for value in rest {
                    entry.append(value.clone());
                }
            }
        }
    }
}

/// True if `content` has a field `name` of its own (or, for `Content-Type`, a type): it wins over a default.
fn in_content(content: Option<&OutgoingContent>, name: &HeaderName) -> bool {
    content.is_some_and(|content| {
        (name == CONTENT_TYPE && content.content_type().is_some())
            || (!content.headers().is_empty() && content.headers().contains_key(name))
    })
}

impl Plugin for DefaultHeaders {
    type Config = DefaultHeadersConfig;
    type Instance = DefaultHeadersInstance;

    fn key(&self) -> &'static str {
        "DefaultHeaders"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: DefaultHeadersConfig) -> Result<Arc<Self::Instance>> {
        let mut headers: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::with_capacity(config.headers.len() + 1);
        let mut add = |name: HeaderName, value: HeaderValue| match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        };
        if let Some(server) = config.server {
            // The default is static: sharing it per response costs no reference count.
            let value = if server == DEFAULT_SERVER {
                HeaderValue::from_static(DEFAULT_SERVER)
            } else {
                header_value("server", server)?
            };
            add(SERVER, value);
        }
        for (name, value) in config.headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|error| Error::config(format!("DefaultHeaders: invalid header name {name:?}: {error}")))?;
            add(header, header_value(&name, value)?);
        }
        let engine_date = !config.own_clock;
        let date = config.date.then(|| DateCache::new(config.clock));
        // One bit per name (the names are distinct); a list over `MAX_DEFERRED` names is never set aside.
        let every = match headers.len() {
            count if count >= MAX_DEFERRED => u64::MAX,
            count => (1u64 << count) - 1,
        };
        let content_type = headers.iter().take(MAX_DEFERRED).position(|(name, _)| *name == CONTENT_TYPE);
        let every_but_content_type = every & !content_type.map_or(0, |index| 1 << index);
        let instance = Arc::new(DefaultHeadersInstance {
            headers: DefaultFields::new(headers),
            every,
            every_but_content_type,
            date,
            engine_date,
        });
        let shared = Arc::clone(&instance);
        let apply = in_place(move |subject: &mut ResponseValue, call: &ApplicationCall| {
            shared.apply(subject, call);
            Ok(())
        });
        plugin.pipeline_mut().send_pipeline_mut().add_interceptor(&ApplicationSendPipeline::AFTER, apply)?;
        Ok(instance)
    }
}

fn header_value(name: &str, value: String) -> Result<HeaderValue> {
    HeaderValue::try_from(value)
        .map_err(|error| Error::config(format!("DefaultHeaders: invalid value for header `{name}`: {error}")))
}

/// `Date` formatted at most once per second on each thread: no lock and no counter shared between threads, and
/// each call takes a clone of the cached value (a reference count on a buffer of its thread).
struct DateCache {
    /// Which cache a thread's cached value belongs to (each has its own clock).
    id: u64,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

static NEXT_DATE_CACHE: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's `Date`: the cache it belongs to, the second it is for, and the value.
    static CACHED_DATE: RefCell<(u64, u64, HeaderValue)> = const { RefCell::new((0, 0, HeaderValue::from_static(""))) };
}

impl DateCache {
    fn new(clock: Arc<dyn Fn() -> SystemTime + Send + Sync>) -> Self {
        DateCache { id: NEXT_DATE_CACHE.fetch_add(1, Ordering::Relaxed), clock }
    }

    fn get(&self) -> HeaderValue {
        let now = (self.clock)();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        CACHED_DATE.with(|cached| {
            let mut cached = cached.borrow_mut();
            if cached.0 != self.id || cached.1 != second {
                *cached = (self.id, second, format_date(now));
            }
            cached.2.clone()
        })
    }
}

fn format_date(time: SystemTime) -> HeaderValue {
    // An HTTP date is ASCII; the value shares one buffer between the calls of a second.
    HeaderValue::from_maybe_shared(Bytes::from(httpdate::fmt_http_date(time)))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn date_is_formatted_once_per_second() {
        let millis = Arc::new(AtomicU64::new(1_700_000_000_100));
        let clock = Arc::clone(&millis);
        let cache = DateCache::new(Arc::new(move || UNIX_EPOCH + Duration::from_millis(clock.load(Ordering::SeqCst))));
        let first = cache.get();
        millis.store(1_700_000_000_900, Ordering::SeqCst);
        let second = cache.get();
        assert_eq!(first, "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(first.as_bytes().as_ptr(), second.as_bytes().as_ptr(), "the same buffer, not a new format");
        millis.store(1_700_000_001_000, Ordering::SeqCst);
        assert_eq!(cache.get(), "Tue, 14 Nov 2023 22:13:21 GMT");
    }
}
