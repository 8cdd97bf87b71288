//! `ApplicationRequest`: the request head of a call.

use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{Extensions, HeaderMap, HeaderName, Method, Uri, Version};

use super::Parameters;
use super::request_headers::{RequestHeaders, Values, visible_ascii};

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
    headers: RequestHeaders,
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
            headers: parts.headers.into(),
            extensions: parts.extensions,
            remote_addr,
            local_addr,
            query: OnceLock::new(),
            engine_writes_date: false,
            engine_takes_parts: false,
        }
    }

    /// A request from its head as an engine parsed it, without an `http::request::Parts` in between (an engine
    /// that parses heads itself saves a move of the head per request); no extensions. `headers` is a
    /// `HeaderMap`, or the fields as parsed ([`RequestHeaders::from_raw`]), made into a map only if asked for.
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
        headers: impl Into<RequestHeaders>,
        remote_addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
    ) -> Self {
        ApplicationRequest {
            method,
            uri,
            version,
            headers: headers.into(),
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

    /// The headers, as a map. When the engine gave the fields as it parsed them, the map is built on the first
    /// call; [`header`](Self::header) and [`header_values`](Self::header_values) read one name without it.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.map()
    }

    /// The header fields, however the engine gave them.
    pub fn request_headers(&self) -> &RequestHeaders {
        &self.headers
    }

    /// Takes the header fields out, leaving none (which allocates nothing).
    pub(crate) fn take_headers(&mut self) -> RequestHeaders {
        std::mem::take(&mut self.headers)
    }

    /// Takes the header fields and drops everything else the request owns (its target, which shares the engine's
    /// read buffer, its extensions, its query parameters), for a call kept as a [`SpareCall`](super::SpareCall):
    /// the request left behind is `GET /` and **owns no memory**, so that the next call's may replace it without
    /// its drop (about 140 instructions of drop glue of empty values). Every field is named, so that a new one
    /// cannot be left out; one that owns memory must be reset here to a value that owns none.
    pub(crate) fn release(&mut self) -> RequestHeaders {
        let ApplicationRequest {
            method,
            uri,
            version: _,
            headers,
            extensions,
            remote_addr: _,
            local_addr: _,
            query,
            engine_writes_date: _,
            engine_takes_parts: _,
        } = self;
        *method = Method::GET;
        *uri = Uri::default();
        *extensions = Extensions::new();
        query.take();
        std::mem::take(headers)
    }

    /// The first value of header `name` (any case), if it is present and visible ASCII. Builds no map.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.first_str(name)
    }

    /// Every value of header `name`, in order, as bytes. Builds no map.
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    /// use rotor::http::header::ACCEPT;
    ///
    /// let head = rotor::http::Request::get("/").header("accept", "text/plain").header("accept", "*/*").body(()).unwrap();
    /// let request = ApplicationRequest::new(head.into_parts().0, None, None);
    /// assert_eq!(request.header_values(&ACCEPT).collect::<Vec<_>>(), [&b"text/plain"[..], b"*/*"]);
    /// ```
    pub fn header_values<'a>(&'a self, name: &'a HeaderName) -> Values<'a> {
        self.headers.values(name)
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.first(&CONTENT_TYPE).and_then(visible_ascii)
    }

    /// The `Content-Length` header, when it is a valid length: digits, or a list of the same digits repeated (in
    /// one field, `5, 5`, or in several), which the engines accept as that one length (RFC 9110, section 8.6).
    /// `None` without the field, or when a value is not a number or the values differ (an engine refuses such a
    /// request before it reaches the application).
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    ///
    /// let request = |values: &[&str]| {
    ///     let mut builder = rotor::http::Request::post("/");
    ///     for value in values {
    ///         builder = builder.header("content-length", *value);
    ///     }
    ///     ApplicationRequest::new(builder.body(()).unwrap().into_parts().0, None, None)
    /// };
    /// assert_eq!(request(&["5"]).content_length(), Some(5));
    /// assert_eq!(request(&["5, 5", "5"]).content_length(), Some(5));
    /// assert_eq!(request(&["5", "6"]).content_length(), None);
    /// assert_eq!(request(&["+5"]).content_length(), None);
    /// assert_eq!(request(&[]).content_length(), None);
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        let mut length = None;
        for value in self.headers.values(&CONTENT_LENGTH) {
            for part in visible_ascii(value)?.split(',') {
                let part = part.trim_matches([' ', '\t']);
                if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                    return None;
                }
                let parsed: u64 = part.parse().ok()?;
                if *length.get_or_insert(parsed) != parsed {
                    return None;
                }
            }
        }
        length
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
