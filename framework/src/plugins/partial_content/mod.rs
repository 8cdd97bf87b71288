//! `PartialContent`: answers `Range` requests with 206 (one range) or `multipart/byteranges` (several), honours
//! `If-Range`, answers 416 with `Content-Range: bytes */length` when no range is satisfiable, and advertises
//! `Accept-Ranges: bytes` on every response it could serve ranges of.
//!
//! Eligible responses: GET and HEAD answered 200 whose body length is known (in memory, or a stream that
//! declares its length) and that carry no `Content-Range` yet. A body in memory is sliced (no copy); a stream
//! of known length (see [`known_length`]) is read once, front to back, skipping what is not asked for. A representation that can seek (a file)
//! attaches a [`RangeSource`] to the call, and each range is then read directly from its offset: the
//! [static-content](super::static_content) handler does this for every file it serves.
//!
//! Decisions where RFC 9110 §14 leaves a choice:
//! - Ranges are sorted, and ranges that overlap, touch, or are less than 80 bytes apart (the overhead of a part
//!   header) are coalesced (§14.2 allows both); so the parts are always in ascending order.
//! - More than [`max_range_count`](PartialContentConfig::max_range_count) ranges (default 10) are served as the
//!   one range that spans them: many tiny ranges cost one part, never a denial of service.
//! - A `Range` header that is malformed, of another unit than `bytes`, or given twice is ignored (200), as are
//!   ranges of an empty representation (no byte range of zero bytes exists).
//! - `If-Range` with an entity tag matches only by strong comparison; with a date, only when it equals
//!   `Last-Modified`; otherwise the whole representation is sent (200).
//!
//! It runs in its own send phase right after ContentEncoding: ranges are of the encoded representation
//! (RFC 9110 §14.1.1), so a body compressed on the fly (unknown length) is sent whole, while a precompressed
//! file of known length is served in ranges. [`ConditionalHeaders`](super::conditional_headers) runs before it,
//! so `If-None-Match` + `Range` on an unchanged resource answers 304.
//!
//! ```
//! use rotor::prelude::*;
//! use rotor::plugins::partial_content::{PartialContent, PartialContentConfig};
//!
//! fn module(app: &mut Application) {
//!     app.install(PartialContent, PartialContentConfig::default());
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move { call.respond_text("0123456789").await });
//!     });
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = rotor_test::test_application(module).await;
//! let res = app.client().get("/").header("range", "bytes=-3").send().await;
//! assert_eq!(res.status(), 206);
//! assert_eq!(res.header("content-range"), Some("bytes 7-9/10"));
//! assert_eq!(res.text().await, "789");
//! # });
//! ```

mod body;
mod config;
mod range;
mod source;

use std::ops::Range;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

pub use body::known_length;
use body::{Piece, RangesBody};
pub use config::PartialContentConfig;
use range::Ranges;
pub use source::{RANGE_SOURCE, RangeSource};

use super::conditional_headers::{EntityTag, http_date, whole_seconds};
use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationSendPipeline, Body, OutgoingContent, ResponseValue, SendContext, visible_ascii};
use crate::pipeline::PipelinePhase;

/// The plugin: install it with `app.install(PartialContent, PartialContentConfig::default())`. See the
/// [module documentation](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct PartialContent;

impl PartialContent {
    /// The send-pipeline phase it runs in, inserted right after ContentEncoding.
    pub const PHASE: PipelinePhase = PipelinePhase::new("PartialContent");
}

const BYTES: HeaderValue = HeaderValue::from_static("bytes");

impl Plugin for PartialContent {
    type Config = PartialContentConfig;
    type Instance = PartialContentConfig;

    fn key(&self) -> &'static str {
        "PartialContent"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: Self::Config) -> Result<Arc<Self::Instance>> {
        if config.max_range_count == 0 {
            return Err(crate::Error::plugin("PartialContent: `max_range_count` must be at least 1"));
        }
        let config = Arc::new(config);
        let max = config.max_range_count;
        let send = plugin.pipeline_mut().send_pipeline_mut();
        send.try_insert_phase_after(&ApplicationSendPipeline::CONTENT_ENCODING, Self::PHASE)?;
        send.add_interceptor(&Self::PHASE, crate::pipeline::sync(move |ctx: &SendContext| apply(max, ctx)))?;
        Ok(config)
    }
}

fn apply(max_ranges: usize, ctx: &SendContext) -> Result<()> {
    let call = ctx.call();
    let method = call.request().method();
    if method != Method::GET && method != Method::HEAD {
        return Ok(());
    }
    let mut subject = ctx.subject();
    let Some(content) = subject.content_mut() else { return Ok(()) };
    let response = call.response();
    let status = content.status().or_else(|| response.status()).unwrap_or(StatusCode::OK);
    if status != StatusCode::OK || content.headers().contains_key(CONTENT_RANGE) {
        return Ok(());
    }
    let Some(length) = content.body().exact_len() else { return Ok(()) };
    let response_headers = response.headers();
    if !response_headers.contains_key(ACCEPT_RANGES) {
        content.headers_mut().entry(ACCEPT_RANGES).or_insert(BYTES);
    }
    // `Range` read where it lies: the request's header map is built only for a request that has one.
    let request = call.request();
    let mut values = request.header_values(&RANGE);
    let (Some(range), None) = (values.next(), values.next()) else { return Ok(()) };
    let Some(range) = visible_ascii(range) else { return Ok(()) };
    if length == 0 || !if_range_matches(request.headers(), content.headers(), &response_headers) {
        return Ok(());
    }
    drop(response_headers);
    match range::resolve(range, length, max_ranges) {
        Ranges::Ignore => {}
        Ranges::Unsatisfiable => {
            let mut answer = OutgoingContent::status_only(StatusCode::RANGE_NOT_SATISFIABLE);
            answer.headers_mut().insert(CONTENT_RANGE, content_range("*", length));
            answer.headers_mut().insert(ACCEPT_RANGES, BYTES);
            *subject = ResponseValue::from(answer);
        }
        Ranges::Satisfiable(ranges) => {
            let Some(content) = subject.take::<OutgoingContent>() else { return Ok(()) };
            let source = call.attributes().get(&RANGE_SOURCE).cloned();
            let source = source.filter(|source| source.serves(content.headers().get(ETAG), length));
            *subject = ResponseValue::from(partial(content, &ranges, length, source.as_ref()));
        }
    }
    Ok(())
}

/// RFC 9110 §13.1.5: true when there is no `If-Range`, or it matches the current representation.
fn if_range_matches(request: &HeaderMap, content: &HeaderMap, response: &HeaderMap) -> bool {
    let Some(value) = request.get(IF_RANGE) else { return true };
    let Ok(text) = value.to_str() else { return false };
    let text = text.trim();
    if text.starts_with('"') || text.starts_with("W/") {
        let Some(asked) = EntityTag::parse(text) else { return false };
        let current = content.get(ETAG).or_else(|| response.get(ETAG));
        let current = current.and_then(|value| value.to_str().ok()).and_then(EntityTag::parse);
        current.is_some_and(|current| current.strong_eq(&asked))
    } else {
        let Ok(asked) = httpdate::parse_http_date(text) else { return false };
        let current = http_date(content, &LAST_MODIFIED).or_else(|| http_date(response, &LAST_MODIFIED));
        current.is_some_and(|current| whole_seconds(current) == asked)
    }
}

fn content_range(range: &str, length: u64) -> HeaderValue {
    HeaderValue::try_from(format!("bytes {range}/{length}")).unwrap_or(BYTES)
}

fn range_text(range: &Range<u64>) -> String {
    format!("{}-{}", range.start, range.end - 1)
}

/// The 206 answer: one range as the body, or several as `multipart/byteranges`.
fn partial(
    content: OutgoingContent,
    ranges: &[Range<u64>],
    length: u64,
    source: Option<&RangeSource>,
) -> OutgoingContent {
    let (body, content_type, _status, mut headers) = content.into_parts();
    let (pieces, content_type) = match ranges {
        [single] => {
            headers.insert(CONTENT_RANGE, content_range(&range_text(single), length));
            (vec![Piece::Range(single.clone())], content_type)
        }
        _ => {
            let boundary = uuid::Uuid::new_v4().simple().to_string();
            let multipart = HeaderValue::try_from(format!("multipart/byteranges; boundary={boundary}")).ok();
            (multipart_pieces(ranges, length, &boundary, content_type.as_ref()), multipart)
        }
    };
    let body = match source {
        Some(source) => from_source(source, pieces),
        None => RangesBody::new(body, pieces).into_body(),
    };
    let mut answer = OutgoingContent::new(body, content_type).with_status(StatusCode::PARTIAL_CONTENT);
    headers.remove(CONTENT_TYPE);
    *answer.headers_mut() = headers;
    answer
}

fn multipart_pieces(
    ranges: &[Range<u64>],
    length: u64,
    boundary: &str,
    content_type: Option<&HeaderValue>,
) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(ranges.len() * 2 + 1);
    for (index, range) in ranges.iter().enumerate() {
        let mut head = BytesMut::with_capacity(128);
        if index > 0 {
            head.put_slice(b"\r\n");
        }
        head.put_slice(b"--");
        head.put_slice(boundary.as_bytes());
        head.put_slice(b"\r\n");
        if let Some(content_type) = content_type {
            head.put_slice(b"Content-Type: ");
            head.put_slice(content_type.as_bytes());
            head.put_slice(b"\r\n");
        }
        head.put_slice(format!("Content-Range: bytes {}/{length}\r\n\r\n", range_text(range)).as_bytes());
        pieces.push(Piece::Literal(head.freeze()));
        pieces.push(Piece::Range(range.clone()));
    }
    pieces.push(Piece::Literal(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
    pieces
}

/// The pieces read straight from a seekable source: each range opened at its offset.
fn from_source(source: &RangeSource, pieces: Vec<Piece>) -> Body {
    let total = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Literal(bytes) => bytes.len() as u64,
            Piece::Range(range) => range.end - range.start,
        })
        .sum();
    let bodies: Vec<Body> = pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(bytes) => Body::full(bytes),
            Piece::Range(range) => source.open(range.start, range.end - range.start),
        })
        .collect();
    let chained = futures_util::StreamExt::flat_map(futures_util::stream::iter(bodies), Body::into_data_stream);
    known_length(Body::from_stream(chained), total)
}
