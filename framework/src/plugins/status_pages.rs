//! StatusPages: answers of your own for errors, for response statuses, and for calls nothing handled.
//!
//! ```
//! use rotor::plugins::status_pages::StatusPages;
//! use rotor::prelude::*;
//!
//! #[derive(Debug)]
//! struct OutOfStock;
//! impl std::fmt::Display for OutOfStock {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("out of stock") }
//! }
//! impl std::error::Error for OutOfStock {}
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = rotor_test::test_application(|app| {
//!     app.install_with(StatusPages, |config| {
//!         config
//!             .exception::<OutOfStock, _, _>(|call, error| async move {
//!                 call.respond_with_status(StatusCode::CONFLICT, format!("sorry: {error}")).await
//!             })
//!             .error(Error::is_bad_request, |call, error| async move {
//!                 call.respond_with_status(StatusCode::BAD_REQUEST, format!("check your input: {error}")).await
//!             })
//!             .status(StatusCode::NOT_FOUND, |call, _status| async move {
//!                 call.respond_with_status(StatusCode::NOT_FOUND, "nothing here").await
//!             });
//!     });
//!     app.routing(|r| {
//!         r.get("/buy", |_call: ApplicationCall| async move { Err(OutOfStock.into()) });
//!     });
//! })
//! .await;
//! let bought = app.client().get("/buy").send().await;
//! assert_eq!(bought.status(), 409);
//! assert_eq!(bought.text().await, "sorry: out of stock");
//! let missing = app.client().get("/nowhere").send().await;
//! assert_eq!(missing.status(), 404);
//! assert_eq!(missing.text().await, "nothing here");
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::StatusCode;

use crate::application::{ApplicationCallPipeline, CallFailed, Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationSendPipeline, AttributeKey};
use crate::{Error, Result};

type BoxFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;
type ErrorMatcher = Box<dyn Fn(&Error) -> bool + Send + Sync>;
type ErrorHandler = Box<dyn Fn(ApplicationCall, Error) -> BoxFuture + Send + Sync>;
type StatusHandler = Box<dyn Fn(ApplicationCall, StatusCode) -> BoxFuture + Send + Sync>;
type UnhandledHandler = Box<dyn Fn(ApplicationCall) -> BoxFuture + Send + Sync>;

/// Set while one of StatusPages' handlers runs, and kept once it answered or failed: no StatusPages handler
/// applies to a call twice, so a handler's own response or error never loops back into StatusPages.
const HANDLING: AttributeKey<()> = AttributeKey::new("StatusPages.handling");

/// The plugin (Ktor's `StatusPages`): handlers for errors, for response statuses, and for unhandled calls.
///
/// - **Errors** ([`exception`](StatusPagesConfig::exception) by the cause's type,
///   [`error`](StatusPagesConfig::error) by a predicate on [`Error`], such as `Error::is_not_found`): when an
///   error escapes a phase, the first handler registered whose match holds runs (Rust has no class hierarchy
///   to pick the most specific one, so put narrow handlers first). If it answers, the error is handled; if it
///   does not, the default failure handling answers (and a status handler may then apply); if it fails, its
///   error replaces the first and goes to the default failure handling.
/// - **Statuses** ([`status`](StatusPagesConfig::status)): when a response about to be sent (after the send
///   pipeline's Render phase) has a status with a handler, the handler runs and its answer replaces the
///   response (with that status unless it sets another); if it does not answer, the original response is sent. This includes the 404/405 answers for
///   unhandled calls and the answers to errors.
/// - **Unhandled calls** ([`unhandled`](StatusPagesConfig::unhandled)): after the Fallback phase, for a call
///   nothing answered, before the framework's 404/405.
///
/// The answer of a StatusPages handler is sent as it is: no other StatusPages handler applies to it, and an
/// error it raises is not handled by StatusPages again, so handlers never recurse.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatusPages;

/// The configuration of [`StatusPages`].
#[derive(Default)]
pub struct StatusPagesConfig {
    errors: Vec<(ErrorMatcher, ErrorHandler)>,
    statuses: HashMap<StatusCode, StatusHandler>,
    unhandled: Option<UnhandledHandler>,
}

impl fmt::Debug for StatusPagesConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusPagesConfig")
            .field("errors", &self.errors.len())
            .field("statuses", &self.statuses.keys().collect::<Vec<_>>())
            .field("unhandled", &self.unhandled.is_some())
            .finish()
    }
}

impl StatusPagesConfig {
    /// Handles errors whose cause is an `E` (`error.downcast_ref::<E>()` is `Some` in the handler): errors
    /// converted with `?` from a standard error, or made with [`Error::with_source`].
    pub fn exception<E, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        E: std::error::Error + 'static,
        F: Fn(ApplicationCall, Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.error(|error| error.downcast_ref::<E>().is_some(), handler)
    }

    /// Handles errors for which `matches` holds, such as `Error::is_not_found` or
    /// `|error| error.status().is_server_error()`.
    pub fn error<M, F, Fut>(&mut self, matches: M, handler: F) -> &mut Self
    where
        M: Fn(&Error) -> bool + Send + Sync + 'static,
        F: Fn(ApplicationCall, Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.errors.push((Box::new(matches), Box::new(move |call, error| Box::pin(handler(call, error)))));
        self
    }

    /// Handles responses about to be sent with `status`; a later handler for the same status replaces an
    /// earlier one.
    pub fn status<F, Fut>(&mut self, status: StatusCode, handler: F) -> &mut Self
    where
        F: Fn(ApplicationCall, StatusCode) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.statuses.insert(status, Box::new(move |call, status| Box::pin(handler(call, status))));
        self
    }

    /// Handles calls nothing answered, before the framework answers them 404 (or 405, …).
    pub fn unhandled<F, Fut>(&mut self, handler: F) -> &mut Self
    where
        F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.unhandled = Some(Box::new(move |call| Box::pin(handler(call))));
        self
    }
}

/// Runs a StatusPages handler for `call` unless one already ran; keeps the mark if it answered or failed.
async fn run_once(call: &ApplicationCall, handler: BoxFuture) -> Result<()> {
    handler.await?;
    if !call.is_handled() {
        call.attributes().remove(&HANDLING);
    }
    Ok(())
}

/// Marks the call as being handled by StatusPages; false if it already is (or was).
fn mark(call: &ApplicationCall) -> bool {
    let mut attributes = call.attributes();
    if attributes.contains(&HANDLING) {
        return false;
    }
    attributes.put(&HANDLING, ());
    true
}

impl Plugin for StatusPages {
    type Config = StatusPagesConfig;
    type Instance = ();

    fn key(&self) -> &'static str {
        "StatusPages"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: StatusPagesConfig) -> Result<Arc<()>> {
        if !config.errors.is_empty() {
            let errors = Arc::new(config.errors);
            plugin.on(CallFailed, move |call: ApplicationCall, error: Error| {
                let errors = Arc::clone(&errors);
                async move {
                    if call.is_handled() {
                        return Ok(());
                    }
                    let Some((_, handler)) = errors.iter().find(|(matches, _)| matches(&error)) else {
                        return Ok(());
                    };
                    if !mark(&call) {
                        return Ok(());
                    }
                    run_once(&call, handler(call.clone(), error)).await
                }
            });
        }
        if !config.statuses.is_empty() {
            let statuses = Arc::new(config.statuses);
            plugin.pipeline_mut().send_pipeline_mut().intercept(&ApplicationSendPipeline::RENDER, move |ctx| {
                let statuses = Arc::clone(&statuses);
                async move {
                    let call = ctx.call().clone();
                    let status = ctx.subject().content().and_then(|content| content.status());
                    let status = status.or_else(|| call.response().status()).unwrap_or(StatusCode::OK);
                    let Some(handler) = statuses.get(&status) else { return Ok(()) };
                    if !mark(&call) {
                        return Ok(());
                    }
                    // A handler that responds without a status answers with the one it handles.
                    call.response().set_status(status);
                    run_once(&call, handler(call.clone(), status)).await?;
                    if call.is_handled() {
                        // The handler's own response was sent; this one is dropped.
                        ctx.finish();
                    }
                    Ok(())
                }
            });
        }
        if let Some(unhandled) = config.unhandled {
            let unhandled = Arc::new(unhandled);
            plugin.pipeline_mut().intercept(&ApplicationCallPipeline::FALLBACK, move |ctx| {
                let unhandled = Arc::clone(&unhandled);
                async move {
                    ctx.proceed().await?;
                    let call = ctx.call();
                    if call.is_handled() || !mark(call) {
                        return Ok(());
                    }
                    run_once(call, unhandled(call.clone())).await
                }
            });
        }
        Ok(Arc::new(()))
    }
}
