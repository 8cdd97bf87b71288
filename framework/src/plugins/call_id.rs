//! CallId: an id for every call, from a request header or generated, echoed in the response and in logs.
//!
//! ```
//! use rotor::plugins::call_id::{CallId, call_id};
//! use rotor::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = rotor_test::test_application(|app| {
//!     app.install(CallId, Default::default());
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move {
//!             let id = call_id(&call).unwrap_or_default();
//!             call.respond_text(id).await
//!         });
//!     });
//! })
//! .await;
//! let response = app.client().get("/").header("X-Request-Id", "abc-123").send().await;
//! assert_eq!(response.header("x-request-id"), Some("abc-123"));
//! assert_eq!(response.text().await, "abc-123");
//!
//! let generated = app.client().get("/").send().await;
//! assert_eq!(generated.header("x-request-id").map(str::len), Some(36)); // a UUID v4
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use tracing::Instrument;

use crate::application::{ApplicationCallPipeline, Plugin, PluginBuilder};
use crate::call::{ApplicationCall, AttributeKey, visible_ascii};
use crate::{Error, Result};

/// The attribute the call's id is stored under.
pub const CALL_ID: AttributeKey<String> = AttributeKey::new("CallId");

/// The call's id, if [`CallId`] is installed.
pub fn call_id(call: &ApplicationCall) -> Option<String> {
    call.attributes().get(&CALL_ID).cloned()
}

/// The plugin (Ktor's `CallId`): gives each call an id, taken from a request header (default `X-Request-Id`)
/// when it is there and valid, generated otherwise (a UUID v4 by default).
///
/// - The id is stored in the [`CALL_ID`] attribute ([`call_id`] reads it) and echoed in the response, in the
///   same header (unless [`echo(false)`](CallIdConfig::echo)).
/// - The rest of the call runs inside a `tracing` span named `call` with a `call_id` field (target
///   `rotor::call_id`, level INFO: a subscriber that filters INFO spans out does not see it), so every event
///   logged while handling the call carries it; CallLogging adds it to its event as a field too.
/// - An incoming id that the verifier refuses (default: 1 to 128 visible ASCII characters, see
///   [`is_valid_call_id`]) is replaced by a generated one; with [`reject_invalid(true)`](CallIdConfig::reject_invalid)
///   the call is answered 400 instead (still with a generated id, for the logs).
///
/// It runs in the Setup phase, so the span wraps every later phase (the answer to an error that escapes
/// every phase is sent after the span, but still carries the id in its header and in CallLogging's event).
#[derive(Clone, Copy, Debug, Default)]
pub struct CallId;

type Generator = Arc<dyn Fn() -> String + Send + Sync>;
type Verifier = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The configuration of [`CallId`].
pub struct CallIdConfig {
    header: String,
    generator: Generator,
    verifier: Verifier,
    reject_invalid: bool,
    echo: bool,
}

impl Default for CallIdConfig {
    fn default() -> Self {
        CallIdConfig {
            header: String::from("X-Request-Id"),
            generator: Arc::new(|| uuid::Uuid::new_v4().to_string()),
            verifier: Arc::new(is_valid_call_id),
            reject_invalid: false,
            echo: true,
        }
    }
}

impl fmt::Debug for CallIdConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallIdConfig")
            .field("header", &self.header)
            .field("reject_invalid", &self.reject_invalid)
            .field("echo", &self.echo)
            .finish_non_exhaustive()
    }
}

impl CallIdConfig {
    /// The header the id is read from and echoed in (default `X-Request-Id`); checked at install.
    pub fn header(&mut self, name: impl Into<String>) -> &mut Self {
        self.header = name.into();
        self
    }

    /// Generates ids for calls without a valid one (default: a hyphenated UUID v4). A generated id that is not
    /// a valid header value is stored but not echoed.
    pub fn generate(&mut self, generator: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.generator = Arc::new(generator);
        self
    }

    /// Decides whether an incoming id is acceptable (default [`is_valid_call_id`]).
    pub fn verify(&mut self, verifier: impl Fn(&str) -> bool + Send + Sync + 'static) -> &mut Self {
        self.verifier = Arc::new(verifier);
        self
    }

    /// Answers 400 to a call whose incoming id is invalid, instead of replacing the id (default false).
    pub fn reject_invalid(&mut self, reject: bool) -> &mut Self {
        self.reject_invalid = reject;
        self
    }

    /// Whether to echo the id in the response header (default true).
    pub fn echo(&mut self, echo: bool) -> &mut Self {
        self.echo = echo;
        self
    }
}

/// The default verifier: 1 to 128 characters, each visible ASCII (`!` to `~`).
///
/// ```
/// use rotor::plugins::call_id::is_valid_call_id;
/// assert!(is_valid_call_id("3f2a-9c"));
/// assert!(!is_valid_call_id(""));
/// assert!(!is_valid_call_id("has space"));
/// assert!(!is_valid_call_id(&"x".repeat(129)));
/// ```
pub fn is_valid_call_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|byte| byte.is_ascii_graphic())
}

struct Settings {
    header: HeaderName,
    generator: Generator,
    verifier: Verifier,
    reject_invalid: bool,
    echo: bool,
}

impl Settings {
    /// The call's id and whether the incoming one was refused.
    fn identify(&self, call: &ApplicationCall) -> (String, bool) {
        // The first field of the name, read where it lies (no request header map is built for it).
        let incoming = call.request().header_values(&self.header).next();
        match incoming.map(|value| visible_ascii(value).filter(|id| (self.verifier)(id))) {
            Some(Some(id)) => (id.to_owned(), false),
            Some(None) => ((self.generator)(), true),
            None => ((self.generator)(), false),
        }
    }
}

impl Plugin for CallId {
    type Config = CallIdConfig;
    type Instance = ();

    fn key(&self) -> &'static str {
        "CallId"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: CallIdConfig) -> Result<Arc<()>> {
        let header = HeaderName::try_from(config.header.as_str())
            .map_err(|error| Error::config(format!("CallId: invalid header name {:?}: {error}", config.header)))?;
        let settings = Arc::new(Settings {
            header,
            generator: config.generator,
            verifier: config.verifier,
            reject_invalid: config.reject_invalid,
            echo: config.echo,
        });
        plugin.pipeline_mut().intercept(&ApplicationCallPipeline::SETUP, move |ctx| {
            let settings = Arc::clone(&settings);
            async move {
                let call = ctx.call();
                let (id, refused) = settings.identify(call);
                if settings.echo {
                    if let Ok(value) = HeaderValue::try_from(id.as_str()) {
                        call.response().headers_mut().insert(settings.header.clone(), value);
                    }
                }
                let span = tracing::info_span!(target: "rotor::call_id", "call", call_id = %id);
                call.attributes().put(&CALL_ID, id);
                if refused && settings.reject_invalid {
                    return Err(Error::bad_request(format!(
                        "the `{}` header holds an invalid call id",
                        settings.header
                    )));
                }
                ctx.proceed().instrument(span).await
            }
        });
        Ok(Arc::new(()))
    }
}
