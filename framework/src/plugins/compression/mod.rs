//! The Compression plugin: responses compressed by `Accept-Encoding`, request bodies decompressed.

mod config;
mod decode;
mod encode;
mod encoding;

use std::sync::Arc;

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};

pub use config::{CompressionConfig, DEFAULT_MIN_SIZE, is_compressible_by_default};
pub use encoding::Encoding;

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationReceivePipeline, ApplicationSendPipeline, OutgoingContent, SendContext};

/// Compresses responses with the coding the client prefers, and decodes compressed request bodies (Ktor's
/// `Compression`, tower-http's `CompressionLayer` + `RequestDecompressionLayer`). Behind the crate feature
/// `compression` (on by default).
///
/// Responses, in the send pipeline's ContentEncoding phase: the coding is chosen from `Accept-Encoding` by
/// q-value (`*` stands for any coding, `q=0` refuses one, ties go to the configured order); without an
/// acceptable coding (no header, `identity` only, `*;q=0`) the response is sent as it is. A response is left
/// alone when it already has a `Content-Encoding`, is partial (`Content-Range`), has no body or a status
/// without one, is shorter than the minimum size (a body of unknown length is compressed), or has a content
/// type that is not compressible (see [`CompressionConfig`]). A compressed response gets `Content-Encoding`,
/// loses `Content-Length` (it is sent chunked, or framed by HTTP/2), and a strong `ETag` becomes weak. Every
/// response that could have been compressed gets `Vary: Accept-Encoding`, whether or not this client asked.
///
/// Compression streams: each chunk of the body is compressed and flushed as it is produced, so a large body is
/// never buffered and a slow or endless one (server-sent events, say) reaches the client as it goes.
///
/// Requests, in the receive pipeline's Before phase: a body with `Content-Encoding: gzip` (or `deflate`, `br`,
/// `zstd`, `identity`, or a list of them) is decoded as it is received; an unknown coding is refused with 415
/// and corrupt data with 400.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::compression::Compression;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.install(Compression, Default::default());
///     app.routing(|r| {
///         r.get("/", |call: ApplicationCall| async move { call.respond_text("hello ".repeat(100)).await });
///     });
/// })
/// .await;
/// let res = app.client().get("/").header("accept-encoding", "gzip, deflate;q=0.5").send().await;
/// assert_eq!(res.header("content-encoding"), Some("gzip"));
/// assert_eq!(res.header("vary"), Some("accept-encoding"));
/// assert_eq!(res.header("content-length"), None);
/// assert!(res.bytes().await.len() < 600);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Compression;

impl Plugin for Compression {
    type Config = CompressionConfig;
    type Instance = CompressionConfig;

    fn key(&self) -> &'static str {
        "Compression"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: CompressionConfig) -> Result<Arc<CompressionConfig>> {
        let config = Arc::new(config);
        if !config.encodings.is_empty() {
            let shared = Arc::clone(&config);
            plugin.pipeline_mut().send_pipeline_mut().try_intercept(
                &ApplicationSendPipeline::CONTENT_ENCODING,
                move |ctx: SendContext| {
                    compress(&ctx, &shared);
                    async { Ok(()) }
                },
            )?;
        }
        if config.decompress_requests {
            plugin.pipeline_mut().receive_pipeline_mut().try_intercept(&ApplicationReceivePipeline::BEFORE, |ctx| {
                let result = decode::decode_request(&ctx);
                async move { result }
            })?;
        }
        Ok(config)
    }
}

const ACCEPT_ENCODING_VALUE: HeaderValue = HeaderValue::from_static("accept-encoding");

fn compress(ctx: &SendContext, config: &CompressionConfig) {
    let call = ctx.context();
    let mut subject = ctx.subject();
    let Some(content) = subject.content_mut() else { return };
    if !may_compress(call, content, config) {
        return;
    }
    add_vary(call, content);
    let accept = call.request().headers().get_all(ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok());
    let Some(encoding) = encoding::negotiate(accept, &config.encodings) else { return };
    let Some(content) = subject.take::<OutgoingContent>() else { return };
    let mut content = content.map_body(|body| encode::encode_body(body, encoding));
    let headers = content.headers_mut();
    headers.insert(CONTENT_ENCODING, encoding.header_value());
    headers.remove(CONTENT_LENGTH);
    weaken_etag(headers);
    call.response().headers_mut().remove(CONTENT_LENGTH);
    *subject = content.into();
}

/// Whether the response is one compression applies to, whatever the client accepts.
fn may_compress(call: &ApplicationCall, content: &OutgoingContent, config: &CompressionConfig) -> bool {
    let status = content.status().or_else(|| call.response().status()).unwrap_or(StatusCode::OK);
    if status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return false;
    }
    if content.body().is_empty_body() || content.body().exact_len().is_some_and(|length| length < config.min_size) {
        return false;
    }
    let headers = content.headers();
    if headers.contains_key(CONTENT_ENCODING) || headers.contains_key(CONTENT_RANGE) {
        return false;
    }
    let compressible_type = {
        let response = call.response().headers();
        if response.contains_key(CONTENT_ENCODING) || response.contains_key(CONTENT_RANGE) {
            return false;
        }
        // A `Content-Type` set on the response wins over the content's, as the engine writes it.
        let content_type = response.get(CONTENT_TYPE).or(content.content_type());
        content_type.and_then(|value| value.to_str().ok()).is_some_and(|value| config.compresses_type(value))
    };
    compressible_type && config.conditions.iter().all(|condition| condition(call, content))
}

/// Adds `Accept-Encoding` to `Vary`, keeping what the response or the content already vary by.
fn add_vary(call: &ApplicationCall, content: &mut OutgoingContent) {
    let mut existing: Vec<HeaderValue> = content.headers().get_all(VARY).iter().cloned().collect();
    existing.extend(call.response().headers().get_all(VARY).iter().cloned());
    let covered =
        existing.iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(',')).any(|item| {
            let item = item.trim();
            item == "*" || item.eq_ignore_ascii_case("accept-encoding")
        });
    if covered {
        return;
    }
    let headers = content.headers_mut();
    headers.remove(VARY);
    if existing.is_empty() {
        headers.insert(VARY, ACCEPT_ENCODING_VALUE);
        return;
    }
    // The content's first `Vary` replaces the response's when the engine writes it: carry them all over.
    let mut joined = Vec::new();
    for value in &existing {
        joined.extend_from_slice(value.as_bytes());
        joined.extend_from_slice(b", ");
    }
    joined.extend_from_slice(b"accept-encoding");
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(VARY, value);
    }
}

/// A strong validator no longer holds for the compressed bytes; a weak one still does.
fn weaken_etag(headers: &mut HeaderMap) {
    let Some(etag) = headers.get(ETAG) else { return };
    if etag.as_bytes().starts_with(b"W/") {
        return;
    }
    let mut weak = b"W/".to_vec();
    weak.extend_from_slice(etag.as_bytes());
    if let Ok(weak) = HeaderValue::from_bytes(&weak) {
        headers.insert(ETAG, weak);
    }
}
