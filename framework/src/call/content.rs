//! `OutgoingContent`: a rendered response body with its content type and status.

use std::fmt;
use std::sync::LazyLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::Body;

/// What the send pipeline renders every response value into, and what an engine writes: a [`Body`] with
/// its `Content-Type` and, optionally, its own status (Ktor's `OutgoingContent`).
///
/// Handlers rarely build one: [`ApplicationCall::respond`](super::ApplicationCall::respond) renders text,
/// bytes, status codes and streams into it, and plugins render other values.
///
/// ```
/// use rotor::call::OutgoingContent;
/// use rotor::http::StatusCode;
///
/// let content = OutgoingContent::text("created").with_status(StatusCode::CREATED);
/// assert_eq!(content.status(), Some(StatusCode::CREATED));
/// assert_eq!(content.content_type().unwrap(), "text/plain; charset=utf-8");
/// assert_eq!(content.body().exact_len(), Some(7));
/// ```
pub struct OutgoingContent {
    body: Body,
    content_type: Option<HeaderValue>,
    status: Option<StatusCode>,
    /// Boxed, and made on first change: most content has no headers of its own, and content is moved a few
    /// times per response, so it is kept small.
    headers: Option<Box<HeaderMap>>,
}

/// The headers of content that has none.
static NO_HEADERS: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);

/// `text/plain; charset=utf-8`.
pub(crate) const TEXT_PLAIN_UTF8: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
/// `application/octet-stream`.
pub(crate) const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

impl OutgoingContent {
    /// Content of `body` with the given content type.
    pub fn new(body: impl Into<Body>, content_type: Option<HeaderValue>) -> Self {
        OutgoingContent { body: body.into(), content_type, status: None, headers: None }
    }

    /// UTF-8 text, `text/plain; charset=utf-8`.
    pub fn text(text: impl Into<Bytes>) -> Self {
        Self::new(Body::full(text), Some(TEXT_PLAIN_UTF8))
    }

    /// Text with a content type of your choosing (for example `text/html; charset=utf-8`).
    pub fn text_as(text: impl Into<Bytes>, content_type: HeaderValue) -> Self {
        Self::new(Body::full(text), Some(content_type))
    }

    /// Raw bytes, `application/octet-stream`.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(Body::full(bytes), Some(OCTET_STREAM))
    }

    /// A streamed body, `application/octet-stream` unless a content type is set.
    pub fn stream(body: Body) -> Self {
        Self::new(body, Some(OCTET_STREAM))
    }

    /// No body, only a status.
    pub fn status_only(status: StatusCode) -> Self {
        OutgoingContent { body: Body::empty(), content_type: None, status: Some(status), headers: None }
    }

    /// Sets the status this content answers with.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the content type.
    #[must_use]
    pub fn with_content_type(mut self, content_type: HeaderValue) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Adds a header that belongs to this content (`ETag`, `Last-Modified`, `Content-Encoding`,
    /// `Content-Range`, …); it replaces a response header of the same name when the response is written.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers_mut().insert(name, value);
        self
    }

    /// The headers that belong to this content.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.as_deref().unwrap_or(&NO_HEADERS)
    }

    /// The headers that belong to this content, for changes.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.get_or_insert_with(Box::default)
    }

    /// Sets the body's content type, or removes it.
    pub fn set_content_type(&mut self, content_type: Option<HeaderValue>) {
        self.content_type = content_type;
    }

    /// Sets the status this content answers with, or removes it.
    pub fn set_status(&mut self, status: Option<StatusCode>) {
        self.status = status;
    }

    /// The status this content answers with, if it carries one (otherwise the response's status is used).
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The content type.
    pub fn content_type(&self) -> Option<&HeaderValue> {
        self.content_type.as_ref()
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Replaces the body (for example with a compressed one), keeping the type and status.
    pub fn map_body(self, map: impl FnOnce(Body) -> Body) -> Self {
        OutgoingContent { body: map(self.body), ..self }
    }

    /// Takes the parts: body, content type, status and the content's own headers.
    pub fn into_parts(self) -> (Body, Option<HeaderValue>, Option<StatusCode>, HeaderMap) {
        (self.body, self.content_type, self.status, self.headers.map(|headers| *headers).unwrap_or_default())
    }

    /// The parts, with the content's own headers as stored: `None` when it has never had any.
    pub(crate) fn into_raw_parts(self) -> (Body, Option<HeaderValue>, Option<StatusCode>, Option<Box<HeaderMap>>) {
        (self.body, self.content_type, self.status, self.headers)
    }
}

impl fmt::Debug for OutgoingContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingContent")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("headers", self.headers())
            .field("body", &self.body)
            .finish()
    }
}
