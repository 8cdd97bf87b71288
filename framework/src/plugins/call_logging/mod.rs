//! CallLogging: one `tracing` event per call, with its method, path, status, duration and call id.
//!
//! ```
//! use rotor::plugins::call_logging::CallLogging;
//! use rotor::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = rotor_test::test_application(|app| {
//!     app.install_with(CallLogging, |config| {
//!         config.level(tracing::Level::DEBUG).filter(|call| call.request().path() != "/health");
//!     });
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
//!     });
//! })
//! .await;
//! assert_eq!(app.client().get("/").send().await.status(), 200); // logs `GET / 200` under rotor::call_logging
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use http::StatusCode;
use tracing::Level;

use crate::Result;
use crate::application::{ApplicationCallPipeline, Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationSendPipeline, AttributeKey};
use crate::plugins::call_id::call_id;
use crate::plugins::forwarded_headers::FORWARDED_ORIGIN;

/// The `tracing` target of CallLogging's events (filter them with `RUST_LOG=rotor::call_logging=info`).
pub const TARGET: &str = "rotor::call_logging";

/// When the call started (CallLogging's Setup); taken when the call is logged, so it is logged once.
const STARTED: AttributeKey<Instant> = AttributeKey::new("CallLogging.started");

/// The plugin (Ktor's `CallLogging`): logs one event per call, under the target [`TARGET`] at a configurable
/// level (default INFO), with the message `GET /path 200` and the fields `method`, `path`,
/// `status`, `duration_us` (microseconds from the call's Setup phase until its response was committed),
/// `call_id` (when [`CallId`](super::call_id::CallId) gave the call one) and `remote` (the client's address:
/// the forwarded one when [`ForwardedHeaders`](super::forwarded_headers::ForwardedHeaders) found one).
///
/// The event is logged when the response has been committed for the engine, so it covers handler responses,
/// the answers to unhandled calls and error answers alike. A call answered outside the send pipeline (the last
/// resort when the send pipeline itself fails twice) is not logged by this plugin; the framework logs its
/// error.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallLogging;

type Filter = Arc<dyn Fn(&ApplicationCall) -> bool + Send + Sync>;

/// The configuration of [`CallLogging`].
pub struct CallLoggingConfig {
    level: Level,
    filters: Vec<Filter>,
}

impl Default for CallLoggingConfig {
    fn default() -> Self {
        CallLoggingConfig { level: Level::INFO, filters: Vec::new() }
    }
}

impl fmt::Debug for CallLoggingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLoggingConfig").field("level", &self.level).field("filters", &self.filters.len()).finish()
    }
}

impl CallLoggingConfig {
    /// The level of the events (default INFO).
    pub fn level(&mut self, level: Level) -> &mut Self {
        self.level = level;
        self
    }

    /// Logs only the calls some filter accepts (as Ktor: with no filter, every call; with several, a call any
    /// of them accepts). A filter runs once the response is committed, so it can look at the status.
    pub fn filter(&mut self, filter: impl Fn(&ApplicationCall) -> bool + Send + Sync + 'static) -> &mut Self {
        self.filters.push(Arc::new(filter));
        self
    }
}

struct Settings {
    level: Level,
    filters: Vec<Filter>,
}

/// One event at a level chosen at run time (`tracing`'s macros take a constant level).
macro_rules! call_event {
    ($level:expr, $($fields:tt)*) => {
        match $level {
            Level::ERROR => tracing::error!(target: TARGET, $($fields)*),
            Level::WARN => tracing::warn!(target: TARGET, $($fields)*),
            Level::INFO => tracing::info!(target: TARGET, $($fields)*),
            Level::DEBUG => tracing::debug!(target: TARGET, $($fields)*),
            _ => tracing::trace!(target: TARGET, $($fields)*),
        }
    };
}

impl Settings {
    fn log(&self, call: &ApplicationCall, status: StatusCode, started: Instant) {
        if !self.filters.is_empty() && !self.filters.iter().any(|filter| filter(call)) {
            return;
        }
        let request = call.request();
        let method = request.method().as_str();
        let path = request.path();
        let status = status.as_u16();
        let duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let id = call_id(call);
        let forwarded = call.attributes().get(&FORWARDED_ORIGIN).map(|origin| origin.remote_host.clone());
        let remote = forwarded.or_else(|| request.remote_addr().map(|remote| remote.ip().to_string()));
        let id = id.as_deref();
        let remote = remote.as_deref();
        call_event!(self.level, method, path, status, duration_us, call_id = id, remote, "{method} {path} {status}");
    }
}

impl Plugin for CallLogging {
    type Config = CallLoggingConfig;
    type Instance = ();

    fn key(&self) -> &'static str {
        "CallLogging"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: CallLoggingConfig) -> Result<Arc<()>> {
        let settings = Arc::new(Settings { level: config.level, filters: config.filters });
        let pipeline = plugin.pipeline_mut();
        pipeline.pipeline_mut().intercept_sync(&ApplicationCallPipeline::SETUP, |ctx| {
            ctx.call().attributes().put(&STARTED, Instant::now());
            Ok(())
        });
        pipeline.send_pipeline_mut().intercept(&ApplicationSendPipeline::AFTER, move |ctx| {
            let settings = Arc::clone(&settings);
            async move {
                let call = ctx.call().clone();
                let status = ctx.subject().content().and_then(|content| content.status());
                let status = status.or_else(|| call.response().status()).unwrap_or(StatusCode::OK);
                let result = ctx.proceed().await;
                if call.is_handled() {
                    let started = call.attributes().remove(&STARTED);
                    if let Some(started) = started {
                        settings.log(&call, status, started);
                    }
                }
                result
            }
        });
        Ok(Arc::new(()))
    }
}
