//! `RoutingRequest`: what resolution reads of a request.

use std::cell::OnceCell;
use std::fmt;

use http::header::HOST;
use http::{HeaderMap, HeaderName, Method};

use crate::call::{ApplicationCall, ApplicationRequest, AttributeKey, Parameters, visible_ascii};

/// The call attribute that makes routing match HEAD requests to GET routes (set by AutoHeadResponse).
pub const HEAD_AS_GET: AttributeKey<()> = AttributeKey::new("rotor.routing.HeadAsGet");

/// The parts of a request that route selectors read: method, path, query, headers, host and local port.
/// Routing makes one from each call; make one yourself to resolve a path against a tree without a call
/// (benchmarks, tools), with [`Route::resolve`](super::Route::resolve).
///
/// ```
/// use rotor::http::Method;
/// use rotor::routing::RoutingRequest;
///
/// let request = RoutingRequest::new(&Method::GET, "/search").query_string("q=rotor");
/// assert_eq!(request.method(), Method::GET);
/// assert_eq!(request.query().get("q"), Some("rotor"));
/// assert_eq!(request.host_and_port(), ("localhost", 80));
/// ```
pub struct RoutingRequest<'a> {
    method: &'a Method,
    path: &'a str,
    query: Query<'a>,
    /// Headers given with [`headers`](Self::headers); a request made from a call reads the call's instead.
    headers: Option<&'a HeaderMap>,
    host: Option<&'a str>,
    /// The call's request, when made from a call: its query, headers and host are read only when a selector asks
    /// (its header fields one name at a time, without building the request's map).
    call_request: Option<&'a ApplicationRequest>,
    local_port: Option<u16>,
    ignore_trailing_slash: bool,
    head_as_get: bool,
}

enum Query<'a> {
    /// The call's query parameters (parsed by the call on first use).
    Call(&'a ApplicationRequest),
    Raw(Option<&'a str>, OnceCell<Parameters>),
}

impl fmt::Debug for RoutingRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingRequest")
            .field("method", self.method)
            .field("path", &self.path)
            .field("ignore_trailing_slash", &self.ignore_trailing_slash)
            .finish_non_exhaustive()
    }
}

impl<'a> RoutingRequest<'a> {
    /// A request with `method` and `path` (percent-encoded, without the query), no query, no headers.
    pub fn new(method: &'a Method, path: &'a str) -> Self {
        RoutingRequest {
            method,
            path,
            query: Query::Raw(None, OnceCell::new()),
            headers: None,
            host: None,
            call_request: None,
            local_port: None,
            ignore_trailing_slash: false,
            head_as_get: false,
        }
    }

    /// What routing reads of `call`; `ignore_trailing_slash` as set by the IgnoreTrailingSlash plugin.
    pub(crate) fn from_call(call: &'a ApplicationCall, ignore_trailing_slash: bool) -> Self {
        let request = call.request();
        RoutingRequest {
            method: request.method(),
            path: request.path(),
            query: Query::Call(request),
            headers: None,
            host: None,
            call_request: Some(request),
            local_port: request.local_addr().map(|addr| addr.port()),
            ignore_trailing_slash,
            head_as_get: request.method() == Method::HEAD && call.has_attribute(&HEAD_AS_GET),
        }
    }

    /// Sets the raw query string (without `?`).
    #[must_use]
    pub fn query_string(mut self, query: &'a str) -> Self {
        self.query = Query::Raw(Some(query), OnceCell::new());
        self
    }

    /// Sets the headers.
    #[must_use]
    pub fn headers(mut self, headers: &'a HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// Sets the host (`example.com` or `example.com:8080`); otherwise the `Host` header is used.
    #[must_use]
    pub fn host(mut self, host: &'a str) -> Self {
        self.host = Some(host);
        self
    }

    /// Sets the local port (the port of a host without one).
    #[must_use]
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// Makes a trailing slash insignificant, as the IgnoreTrailingSlash plugin does.
    #[must_use]
    pub fn ignore_trailing_slash(mut self, ignore: bool) -> Self {
        self.ignore_trailing_slash = ignore;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The path, still percent-encoded.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Makes GET routes answer HEAD requests (explicit `head` routes still win), as AutoHeadResponse does.
    #[must_use]
    pub fn head_as_get(mut self, head_as_get: bool) -> Self {
        self.head_as_get = head_as_get;
        self
    }

    /// True if a method selector for `method` can match this request: the same method, or GET for a HEAD
    /// request treated as GET.
    pub(crate) fn may_match_method(&self, method: &Method) -> bool {
        self.method() == method || (self.head_as_get && method == Method::GET)
    }

    /// True when GET routes answer HEAD requests.
    pub fn treats_head_as_get(&self) -> bool {
        self.head_as_get
    }

    /// True when a trailing slash is insignificant.
    pub fn ignores_trailing_slash(&self) -> bool {
        self.ignore_trailing_slash
    }

    /// The query parameters (parsed on first use).
    pub fn query(&self) -> &Parameters {
        match &self.query {
            Query::Call(request) => request.query_parameters(),
            Query::Raw(raw, parsed) => parsed.get_or_init(|| raw.map(Parameters::parse_query).unwrap_or_default()),
        }
    }

    /// Every value of header `name` that is visible ASCII.
    pub fn header_values<'s>(&'s self, name: &'s HeaderName) -> impl Iterator<Item = &'s str> + 's {
        let given = self.headers.map(|headers| headers.get_all(name).iter().filter_map(|value| value.to_str().ok()));
        let call = match (self.headers, self.call_request) {
            (None, Some(request)) => Some(request.header_values(name).filter_map(visible_ascii)),
            _ => None,
        };
        given.into_iter().flatten().chain(call.into_iter().flatten())
    }

    /// The host name (without port, lower-cased brackets kept for IPv6) and the port: the port of the host,
    /// else the local port, else 80. The host is `localhost` when the request names none.
    pub fn host_and_port(&self) -> (&str, u16) {
        let host = self
            .host
            .or_else(|| match self.call_request {
                Some(request) => request.host(),
                None => self.header_values(&HOST).next(),
            })
            .unwrap_or("localhost");
        let default_port = self.local_port.unwrap_or(80);
        let (name, port) = if host.starts_with('[') {
            match host.find(']') {
                Some(end) => (&host[..=end], host[end + 1..].strip_prefix(':')),
                None => (host, None),
            }
        } else {
            match host.rsplit_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host, None),
            }
        };
        (name, port.and_then(|port| port.parse().ok()).unwrap_or(default_port))
    }
}
