//! `RangeSource`: how a response whose bytes can be read from any offset (a file) serves ranges directly.

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;

use crate::call::{ApplicationCall, AttributeKey, Body};

type Open = Arc<dyn Fn(u64, u64) -> Body + Send + Sync>;

/// A representation that can be read from any offset, such as a file that can seek.
///
/// A handler that responds with such a representation attaches a `RangeSource` to the call; when
/// [`PartialContent`](super::PartialContent) answers a range request for that response, it asks the source for
/// each range (`open(start, length)`) instead of reading the body from its start and skipping. The source is
/// used only when the response's `ETag` and length are the ones it was made with, so a response replaced on the
/// way (an error page, a compressed body) never gets bytes from the wrong representation. The static-content
/// handler attaches one to every file it serves.
///
/// ```
/// use rotor::call::Body;
/// use rotor::http::HeaderValue;
/// use rotor::plugins::partial_content::RangeSource;
///
/// let text: &'static [u8] = b"0123456789";
/// let source = RangeSource::new(HeaderValue::from_static("\"v1\""), 10, move |start, length| {
///     Body::from(&text[start as usize..(start + length) as usize])
/// });
/// assert_eq!(source.length(), 10);
/// ```
#[derive(Clone)]
pub struct RangeSource {
    etag: HeaderValue,
    length: u64,
    open: Open,
}

/// The call attribute a [`RangeSource`] is attached under.
pub const RANGE_SOURCE: AttributeKey<RangeSource> = AttributeKey::new("PartialContent.RangeSource");

impl RangeSource {
    /// A source of the representation whose `ETag` is `etag` and whose length is `length`; `open(start,
    /// length)` returns a body of exactly those bytes.
    pub fn new<F>(etag: HeaderValue, length: u64, open: F) -> Self
    where
        F: Fn(u64, u64) -> Body + Send + Sync + 'static,
    {
        RangeSource { etag, length, open: Arc::new(open) }
    }

    /// Attaches this source to `call`.
    pub fn attach(self, call: &ApplicationCall) {
        call.attributes().put(&RANGE_SOURCE, self);
    }

    /// The length of the representation.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// True if this source serves the representation with this `ETag` and length.
    pub(crate) fn serves(&self, etag: Option<&HeaderValue>, length: u64) -> bool {
        etag == Some(&self.etag) && length == self.length
    }

    /// A body of `length` bytes from `start`.
    pub(crate) fn open(&self, start: u64, length: u64) -> Body {
        (self.open)(start, length)
    }
}

impl fmt::Debug for RangeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RangeSource").field("etag", &self.etag).field("length", &self.length).finish_non_exhaustive()
    }
}
