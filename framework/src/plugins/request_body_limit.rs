//! The RequestBodyLimit plugin: 413 for request bodies larger than a limit.

use std::fmt;
use std::sync::Arc;

use futures_util::TryStreamExt;

use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationReceivePipeline, Body, ReceiveContext};
use crate::{Error, Result};

/// The limit a [`RequestBodyLimitConfig`] starts with: 1 MiB.
pub const DEFAULT_LIMIT: u64 = 1024 * 1024;

/// Refuses request bodies larger than a limit with `413 Payload Too Large` (Ktor's `RequestBodyLimit`,
/// actix-web's `PayloadConfig::limit`).
///
/// Install it on the application or on a route (`route.install(RequestBodyLimit, …)`, where it applies to
/// that route's calls only). Two checks:
/// - a declared `Content-Length` over the limit is refused at once, in the Plugins phase, before the handler
///   runs and before a byte of the body is read;
/// - a body without a declared length (chunked, HTTP/2) is counted as it is received through the receive
///   pipeline (`call.receive…`), and receiving fails with 413 as soon as it grows past the limit.
///
/// The streamed body is counted as the receive pipeline's Before interceptors installed earlier left it:
/// install `Compression` before this plugin to limit the decoded size of compressed
/// request bodies (a defence against decompression bombs), after it to limit the bytes on the wire.
///
/// The limit may depend on the call ([`limit`](RequestBodyLimitConfig::limit)); a limit of `u64::MAX` means
/// none. [`ApplicationCall::take_body`] bypasses the receive pipeline and so the second check.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::request_body_limit::RequestBodyLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.routing(|r| {
///         r.route("/upload", |r| {
///             r.install_with(RequestBodyLimit, |config| {
///                 config.limit(|call| if call.request().header("x-premium").is_some() { 10 } else { 4 });
///             });
///             r.post("", |call: ApplicationCall| async move {
///                 let body = call.receive_bytes().await?;
///                 call.respond_text(format!("{} bytes", body.len())).await
///             });
///         });
///     });
/// })
/// .await;
/// assert_eq!(app.client().post("/upload").text("12345").send().await.status(), 413);
/// let res = app.client().post("/upload").header("x-premium", "1").text("12345").send().await;
/// assert_eq!(res.text().await, "5 bytes");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestBodyLimit;

/// The configuration of [`RequestBodyLimit`]: the limit, fixed or per call.
#[derive(Clone)]
pub struct RequestBodyLimitConfig {
    limit: Arc<dyn Fn(&ApplicationCall) -> u64 + Send + Sync>,
}

impl Default for RequestBodyLimitConfig {
    fn default() -> Self {
        RequestBodyLimitConfig { limit: Arc::new(|_| DEFAULT_LIMIT) }
    }
}

impl fmt::Debug for RequestBodyLimitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBodyLimitConfig").finish_non_exhaustive()
    }
}

impl RequestBodyLimitConfig {
    /// A configuration with a fixed limit of `bytes`.
    ///
    /// ```
    /// use rotor::plugins::request_body_limit::{RequestBodyLimit, RequestBodyLimitConfig};
    ///
    /// let mut app = rotor::Application::default();
    /// app.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(64 * 1024));
    /// ```
    pub fn max_bytes(bytes: u64) -> Self {
        RequestBodyLimitConfig { limit: Arc::new(move |_| bytes) }
    }

    /// Sets a fixed limit of `bytes`.
    pub fn set_max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.limit = Arc::new(move |_| bytes);
        self
    }

    /// Sets the limit as a function of the call (its path, headers, attributes set by authentication…).
    pub fn limit(&mut self, limit: impl Fn(&ApplicationCall) -> u64 + Send + Sync + 'static) -> &mut Self {
        self.limit = Arc::new(limit);
        self
    }
}

impl Plugin for RequestBodyLimit {
    type Config = RequestBodyLimitConfig;
    type Instance = RequestBodyLimitConfig;

    fn key(&self) -> &'static str {
        "RequestBodyLimit"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: RequestBodyLimitConfig) -> Result<Arc<Self::Instance>> {
        let declared = Arc::clone(&config.limit);
        plugin.on_call(move |call| {
            let result = check_declared(&call, declared(&call));
            async move { result }
        });
        let streamed = Arc::clone(&config.limit);
        plugin.pipeline_mut().receive_pipeline_mut().try_intercept(
            &ApplicationReceivePipeline::BEFORE,
            move |ctx: ReceiveContext| {
                let limit = streamed(ctx.context());
                let result = limit_body(&ctx, limit);
                async move { result }
            },
        )?;
        Ok(Arc::new(config))
    }
}

fn too_large(limit: u64) -> Error {
    Error::payload_too_large(format!("the request body is larger than the limit of {limit} bytes"))
}

fn check_declared(call: &ApplicationCall, limit: u64) -> Result<()> {
    match call.request().content_length() {
        Some(length) if length > limit => Err(too_large(limit)),
        _ => Ok(()),
    }
}

/// Wraps the body so that reading past `limit` fails with 413.
fn limit_body(ctx: &ReceiveContext, limit: u64) -> Result<()> {
    if limit == u64::MAX {
        return Ok(());
    }
    check_declared(ctx.context(), limit)?;
    let mut subject = ctx.subject();
    let Some(body) = subject.take_value::<Body>() else { return Ok(()) };
    if let Some(length) = body.exact_len() {
        subject.set_value(body);
        return if length > limit { Err(too_large(limit)) } else { Ok(()) };
    }
    let mut seen = 0u64;
    let counted = body.into_data_stream().and_then(move |chunk| {
        seen = seen.saturating_add(chunk.len() as u64);
        let result = if seen > limit { Err(too_large(limit)) } else { Ok(chunk) };
        std::future::ready(result)
    });
    subject.set_value(Body::from_stream(counted.map_err(crate::BoxError::from)));
    Ok(())
}
