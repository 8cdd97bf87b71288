//! `ConditionalHeaders`: `ETag` / `Last-Modified` validators, and 304 / 412 answers to conditional requests
//! exactly as RFC 9110 §13 says.
//!
//! The validators of a response are its content's own `ETag` and `Last-Modified` headers, else those a
//! handler set on the response, else what the [version providers](ConditionalHeadersConfig::version) compute.
//! The preconditions are evaluated in the order of RFC 9110 §13.2.2: `If-Match` (strong comparison, `*`,
//! lists), else `If-Unmodified-Since`; then `If-None-Match` (weak comparison), else `If-Modified-Since` (GET
//! and HEAD only). A failed `If-Match` / `If-Unmodified-Since`, or a matching `If-None-Match` on a method
//! other than GET and HEAD, answers 412; a matching `If-None-Match` / unmodified `If-Modified-Since` on GET
//! or HEAD answers 304, which keeps `ETag`, `Last-Modified`, `Cache-Control`, `Expires`, `Vary`,
//! `Content-Location` and `Date` and drops the body. Invalid dates are ignored. Only 2xx answers are
//! conditional (§13.2.1); errors pass through unchanged.
//!
//! It runs in its own send phase right before ContentEncoding (after Render and after
//! [`CachingHeaders`](super::caching_headers::CachingHeaders), so a 304 keeps the `Cache-Control` it adds),
//! so it sees rendered content before compression and before
//! [`PartialContent`](super::partial_content::PartialContent) (a 304 is never turned into a 206).
//!
//! ```
//! use rotor::prelude::*;
//! use rotor::plugins::conditional_headers::{ConditionalHeaders, EntityTag, Version};
//!
//! fn module(app: &mut Application) {
//!     app.install_with(ConditionalHeaders, |config| {
//!         config.version(|_call, _content| vec![Version::EntityTag(EntityTag::strong("v1").unwrap())]);
//!     });
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move { call.respond_text("hello").await });
//!     });
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = rotor_test::test_application(module).await;
//! let first = app.client().get("/").send().await;
//! assert_eq!(first.header("etag"), Some("\"v1\""));
//! let again = app.client().get("/").header("if-none-match", "\"v1\"").send().await;
//! assert_eq!(again.status(), 304);
//! assert!(again.bytes().await.is_empty());
//! # });
//! ```

mod config;
mod entity_tag;
mod preconditions;

use std::sync::Arc;

use http::header::{
    CACHE_CONTROL, CONTENT_LOCATION, DATE, ETAG, EXPIRES, HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    IF_UNMODIFIED_SINCE, LAST_MODIFIED, VARY,
};
use http::{HeaderMap, HeaderValue, StatusCode};

pub use config::{ConditionalHeadersConfig, Version};
pub use entity_tag::{EntityTag, EntityTagList};
use preconditions::{Outcome, Validators, evaluate};
pub(crate) use preconditions::{http_date, whole_seconds};

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationSendPipeline, OutgoingContent, ResponseValue, SendContext};
use crate::pipeline::PipelinePhase;

/// The plugin: install it with `app.install(ConditionalHeaders, ConditionalHeadersConfig::default())` or
/// `install_with`. See the [module documentation](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConditionalHeaders;

impl ConditionalHeaders {
    /// The send-pipeline phase it runs in, inserted right before ContentEncoding.
    pub const PHASE: PipelinePhase = PipelinePhase::new("ConditionalHeaders");
}

/// The headers a 304 keeps from the content (RFC 9110 §15.4.5).
const KEPT_BY_304: [HeaderName; 7] = [ETAG, LAST_MODIFIED, CACHE_CONTROL, EXPIRES, VARY, CONTENT_LOCATION, DATE];

impl Plugin for ConditionalHeaders {
    type Config = ConditionalHeadersConfig;
    type Instance = ConditionalHeadersConfig;

    fn key(&self) -> &'static str {
        "ConditionalHeaders"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: Self::Config) -> Result<Arc<Self::Instance>> {
        let config = Arc::new(config);
        let shared = Arc::clone(&config);
        let send = plugin.pipeline_mut().send_pipeline_mut();
        send.try_insert_phase_before(&ApplicationSendPipeline::CONTENT_ENCODING, Self::PHASE)?;
        send.add_interceptor(&Self::PHASE, crate::pipeline::sync(move |ctx: &SendContext| apply(&shared, ctx)))?;
        Ok(config)
    }
}

fn apply(config: &ConditionalHeadersConfig, ctx: &SendContext) -> Result<()> {
    let call = ctx.call();
    let mut subject = ctx.subject();
    let Some(content) = subject.content_mut() else { return Ok(()) };
    let status = content.status().or_else(|| call.response().status()).unwrap_or(StatusCode::OK);
    if !status.is_success() {
        return Ok(());
    }
    let validators = validators(config, call, content);
    // Without any of the four precondition fields, evaluation proceeds: checked where the fields lie, so that the
    // request's header map is built only for a conditional request.
    let request = call.request();
    let conditional = [IF_MATCH, IF_NONE_MATCH, IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE]
        .iter()
        .any(|name| request.header_values(name).next().is_some());
    let outcome =
        if conditional { evaluate(request.method(), request.headers(), &validators) } else { Outcome::Proceed };
    match outcome {
        Outcome::Proceed => {}
        Outcome::NotModified => *subject = ResponseValue::from(not_modified(content.headers())),
        Outcome::PreconditionFailed => {
            *subject = ResponseValue::from(OutgoingContent::status_only(StatusCode::PRECONDITION_FAILED));
        }
    }
    Ok(())
}

/// Reads the validators from the content, then the response; asks the providers for missing ones and adds
/// what they give to the content's headers.
fn validators(config: &ConditionalHeadersConfig, call: &ApplicationCall, content: &mut OutgoingContent) -> Validators {
    let mut validators = Validators::default();
    {
        let response = call.response();
        let response_headers = response.headers();
        let etag = content.headers().get(ETAG).or_else(|| response_headers.get(ETAG));
        validators.etag = etag.and_then(|value| value.to_str().ok()).and_then(EntityTag::parse);
        validators.last_modified =
            http_date(content.headers(), &LAST_MODIFIED).or_else(|| http_date(&response_headers, &LAST_MODIFIED));
    }
    for provider in &config.providers {
        if validators.etag.is_some() && validators.last_modified.is_some() {
            break;
        }
        for version in provider(call, content) {
            match version {
                Version::EntityTag(tag) if validators.etag.is_none() => {
                    content.headers_mut().insert(ETAG, tag.to_header_value());
                    validators.etag = Some(tag);
                }
                Version::LastModified(time) if validators.last_modified.is_none() => {
                    let time = whole_seconds(time);
                    let formatted = httpdate::fmt_http_date(time);
                    if let Ok(value) = HeaderValue::from_str(&formatted) {
                        content.headers_mut().insert(LAST_MODIFIED, value);
                    }
                    validators.last_modified = Some(time);
                }
                _ => {}
            }
        }
    }
    validators
}

fn not_modified(headers: &HeaderMap) -> OutgoingContent {
    let mut answer = OutgoingContent::status_only(StatusCode::NOT_MODIFIED);
    for name in KEPT_BY_304 {
        for value in headers.get_all(&name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}
