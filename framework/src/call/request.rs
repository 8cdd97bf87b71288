//! `ApplicationRequest`: the request head of a call.

use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Extensions, HeaderMap, Method, Uri, Version};

use super::Parameters;

/// The head of a request as the engine parsed it: method, URI, version, headers, and the addresses of both
/// ends. The body is not here; it streams into the call and is read with
/// [`ApplicationCall::receive`](super::ApplicationCall::receive).
///
/// ```
/// use rotor::call::ApplicationRequest;
///
/// let head = rotor::http::Request::get("/search?q=rotor&page=2").header("host", "example.com").body(()).unwrap();
/// let request = ApplicationRequest::new(head.into_parts().0, None, None);
/// assert_eq!(request.path(), "/search");
/// assert_eq!(request.query_string(), Some("q=rotor&page=2"));
/// assert_eq!(request.query_parameters().get("q"), Some("rotor"));
/// assert_eq!(request.header("Host"), Some("example.com"));
/// ```
pub struct ApplicationRequest {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    extensions: Extensions,
    remote_addr: Option<SocketAddr>,
    local_addr: Option<SocketAddr>,
    query: OnceLock<Parameters>,
    engine_writes_date: bool,
    engine_takes_parts: bool,
}

impl ApplicationRequest {
    /// A request from the parts of an `http::Request` and the connection's remote and local addresses.
    pub fn new(parts: http::request::Parts, remote_addr: Option<SocketAddr>, local_addr: Option<SocketAddr>) -> Self {
        ApplicationRequest {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: parts.headers,
            extensions: parts.extensions,
            remote_addr,
            local_addr,
            query: OnceLock::new(),
            engine_writes_date: false,
            engine_takes_parts: false,
        }
    }

    /// A request from its head as an engine parsed it, without an `http::request::Parts` in between (an engine
    /// that parses heads itself saves a move of the head per request); no extensions.
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    /// use rotor::http::{HeaderMap, Method, Uri, Version};
    ///
    /// let uri = Uri::from_static("/a?b=c");
    /// let request = ApplicationRequest::from_head(Method::GET, uri, Version::HTTP_11, HeaderMap::new(), None, None);
    /// assert_eq!(request.path(), "/a");
    /// ```
    pub fn from_head(
        method: Method,
        uri: Uri,
        version: Version,
        headers: HeaderMap,
        remote_addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
    ) -> Self {
        ApplicationRequest {
            method,
            uri,
            version,
            headers,
            extensions: Extensions::new(),
            remote_addr,
            local_addr,
            query: OnceLock::new(),
            engine_writes_date: false,
            engine_takes_parts: false,
        }
    }

    /// Records that the engine answering this request writes a `Date` header itself on a response that has
    /// none (hyper does, from a clock it formats once a second); DefaultHeaders then leaves `Date` to it.
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    ///
    /// let head = rotor::http::Request::get("/").body(()).unwrap();
    /// let request = ApplicationRequest::new(head.into_parts().0, None, None).with_engine_date(true);
    /// assert!(request.engine_writes_date());
    /// ```
    #[must_use]
    #[inline]
    pub fn with_engine_date(mut self, writes_date: bool) -> Self {
        self.engine_writes_date = writes_date;
        self
    }

    /// True if the engine writes `Date` on a response that has none (see [`with_engine_date`](Self::with_engine_date)).
    pub fn engine_writes_date(&self) -> bool {
        self.engine_writes_date
    }

    /// Records that the engine answering this request takes the answer with
    /// [`take_engine_response`](super::ApplicationResponse::take_engine_response) and writes its head from the
    /// parts (rotor-cio does): DefaultHeaders then sets its fields aside for the engine to write rather than
    /// inserting them into the response's header map (an engine that needs an `http::Response` gains nothing from
    /// that, so by default they are inserted).
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    ///
    /// let head = rotor::http::Request::get("/").body(()).unwrap();
    /// let request = ApplicationRequest::new(head.into_parts().0, None, None).with_engine_parts(true);
    /// assert!(request.engine_takes_parts());
    /// ```
    #[must_use]
    #[inline]
    pub fn with_engine_parts(mut self, takes_parts: bool) -> Self {
        self.engine_takes_parts = takes_parts;
        self
    }

    /// True if the engine writes the answer from its parts (see [`with_engine_parts`](Self::with_engine_parts)).
    pub fn engine_takes_parts(&self) -> bool {
        self.engine_takes_parts
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target as sent.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path, still percent-encoded (`/a%20b`).
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The query string without the `?`, if there is one.
    pub fn query_string(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The query parameters, decoded; parsed on first use.
    pub fn query_parameters(&self) -> &Parameters {
        self.query.get_or_init(|| self.uri.query().map(Parameters::parse_query).unwrap_or_default())
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Takes the header map out, leaving an empty one (which allocates nothing).
    pub(crate) fn take_headers(&mut self) -> HeaderMap {
        std::mem::take(&mut self.headers)
    }

    /// The first value of header `name`, if it is present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok())
    }

    /// The `Content-Length` header, when it is a valid number.
    pub fn content_length(&self) -> Option<u64> {
        self.headers.get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.trim().parse().ok())
    }

    /// The host the request was sent to: the URI's authority (HTTP/2, absolute-form) or the `Host` header.
    pub fn host(&self) -> Option<&str> {
        self.uri.authority().map(|authority| authority.as_str()).or_else(|| self.header(HOST.as_str()))
    }

    /// The address of the peer (the client, or the last proxy).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// The local address the connection was accepted on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Values an engine attached to the request (for example TLS details).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }
}

impl fmt::Debug for ApplicationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}
