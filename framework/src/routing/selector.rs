//! Route selectors: what a route node tests about a request, and how well it matched.

use std::fmt;

use http::{HeaderName, Method, StatusCode};

use super::media::{self, MediaType};
use super::resolve::ResolveInput;

/// The qualities Ktor gives selector evaluations; a route path is better than another when, compared
/// selector by selector from the root, its first differing quality is higher.
pub mod quality {
    /// A constant path segment, a method, a query parameter, a host.
    pub const CONSTANT: f64 = 1.0;
    /// A path parameter with a prefix or suffix (`user-{name}`, `{id}.json`).
    pub const PARAMETER_WITH_PREFIX_OR_SUFFIX: f64 = 0.9;
    /// A path parameter (`{id}`).
    pub const PARAMETER: f64 = 0.8;
    /// A wildcard segment (`*`).
    pub const WILDCARD: f64 = 0.5;
    /// A missing optional value (`{p?}` with no segment left, an absent optional query parameter, no `Accept`).
    pub const MISSING: f64 = 0.2;
    /// A tailcard that captured at least one segment (`{...}`).
    pub const TAILCARD: f64 = 0.1;
    /// A selector that takes its children's quality (a trailing slash in the middle of a path).
    pub const TRANSPARENT: f64 = -1.0;
    /// A GET route answering a HEAD request (AutoHeadResponse): below a constant, so a `head` route wins.
    pub const HEAD_AS_GET: f64 = 0.95;
    /// The quality of a failed method: beats a failed parameter when choosing the failure status.
    pub const FAILED_METHOD: f64 = 0.02;
    /// The quality of a failed query parameter, header, `Accept` or `Content-Type`.
    pub const FAILED_PARAMETER: f64 = 0.01;
    /// The quality of a failed path segment.
    pub const FAILED_PATH: f64 = 0.0;
}

/// The outcome of testing one selector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Evaluation {
    /// Matched with this quality, consuming `increment` path segments.
    Success { quality: f64, increment: usize },
    /// Did not match; `status` is the answer if this is the best failure.
    Failure { quality: f64, status: StatusCode },
}

const FAILED_PATH: Evaluation = Evaluation::Failure { quality: quality::FAILED_PATH, status: StatusCode::NOT_FOUND };
const FAILED_PARAMETER: Evaluation =
    Evaluation::Failure { quality: quality::FAILED_PARAMETER, status: StatusCode::BAD_REQUEST };
const MISSING: Evaluation = Evaluation::Success { quality: quality::MISSING, increment: 0 };
const TRANSPARENT: Evaluation = Evaluation::Success { quality: quality::TRANSPARENT, increment: 0 };

/// What a route node tests about a request: a path segment pattern, the method, a query parameter, a header,
/// `Accept`, `Content-Type`, or the host and port (Ktor's `RouteSelector`s). Its `Display` form is the one
/// used in route paths and traces (`{id}`, `(method:GET)`).
///
/// ```
/// use rotor::routing::RouteSelector;
/// use rotor::http::Method;
///
/// assert_eq!(RouteSelector::method(Method::POST).to_string(), "(method:POST)");
/// assert_eq!(RouteSelector::header("x-version", "2").to_string(), "(header:x-version = 2)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RouteSelector {
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Root {
        segments: Vec<String>,
    },
    Constant(String),
    /// `name` is interned (see [`parameter_name`](super::parameter_name)), so capturing does not copy it.
    Parameter {
        name: &'static str,
        prefix: String,
        suffix: String,
        optional: bool,
    },
    Wildcard,
    Tailcard {
        name: &'static str,
        prefix: String,
    },
    TrailingSlash,
    Method(Method),
    QueryValue {
        name: String,
        value: String,
    },
    Query {
        name: String,
        optional: bool,
    },
    Header {
        name: HeaderName,
        value: String,
    },
    Accept(Vec<MediaType>),
    ContentType(Vec<MediaType>),
    Host {
        hosts: Vec<String>,
        ports: Vec<u16>,
    },
}

/// The parameter names the host selector captures (Ktor's `HostRouteSelector.HostNameParameter`).
pub const HOST_PARAMETER: &str = "$RequestHost";
/// The parameter name the host selector captures the port under (Ktor's `HostRouteSelector.PortParameter`).
pub const PORT_PARAMETER: &str = "$RequestPort";

impl RouteSelector {
    pub(crate) const fn new(kind: Kind) -> Self {
        RouteSelector { kind }
    }

    /// Matches requests with this method.
    pub fn method(method: Method) -> Self {
        Self::new(Kind::Method(method))
    }

    /// Matches requests with this header, one of whose comma-separated items equals `value` (ignoring case).
    ///
    /// # Panics
    /// If `name` is not a valid header name.
    pub fn header(name: &str, value: &str) -> Self {
        let name = HeaderName::try_from(name).unwrap_or_else(|error| panic!("invalid header name {name:?}: {error}"));
        Self::new(Kind::Header { name, value: value.to_owned() })
    }

    /// True for selectors that consume path segments (constants, parameters, wildcards, tailcards, slashes).
    pub fn is_path(&self) -> bool {
        matches!(
            self.kind,
            Kind::Root { .. }
                | Kind::Constant(_)
                | Kind::Parameter { .. }
                | Kind::Wildcard
                | Kind::Tailcard { .. }
                | Kind::TrailingSlash
        )
    }

    /// The method this selector matches, if it is a method selector.
    pub fn as_method(&self) -> Option<&Method> {
        match &self.kind {
            Kind::Method(method) => Some(method),
            _ => None,
        }
    }

    /// The decoded constant segment, if this is a constant path selector.
    pub(crate) fn as_constant(&self) -> Option<&str> {
        match &self.kind {
            Kind::Constant(value) => Some(value),
            _ => None,
        }
    }

    /// Tests the selector at `index` of the request path.
    pub(crate) fn evaluate(&self, input: &ResolveInput<'_, '_>, index: usize) -> Evaluation {
        let segments = input.segments();
        match &self.kind {
            Kind::Root { segments: parts } => {
                if parts.is_empty() {
                    return Evaluation::Success { quality: quality::CONSTANT, increment: 0 };
                }
                let matched = segments.len() >= parts.len() && parts.iter().zip(segments).all(|(p, s)| p == s);
                if matched {
                    Evaluation::Success { quality: quality::CONSTANT, increment: parts.len() }
                } else {
                    FAILED_PATH
                }
            }
            Kind::Constant(value) => match segments.get(index) {
                Some(segment) if segment == value => Evaluation::Success { quality: quality::CONSTANT, increment: 1 },
                _ => FAILED_PATH,
            },
            Kind::Parameter { prefix, suffix, optional, .. } => {
                evaluate_parameter(segments.get(index).map(|s| &**s), prefix, suffix, *optional)
            }
            Kind::Wildcard => match segments.get(index) {
                Some(segment) if !segment.is_empty() => {
                    Evaluation::Success { quality: quality::WILDCARD, increment: 1 }
                }
                _ => FAILED_PATH,
            },
            Kind::Tailcard { prefix, .. } => {
                if !prefix.is_empty() && !segments.get(index).is_some_and(|segment| segment.starts_with(&**prefix)) {
                    return FAILED_PATH;
                }
                let quality = if index < segments.len() { quality::TAILCARD } else { quality::MISSING };
                Evaluation::Success { quality, increment: segments.len().saturating_sub(index) }
            }
            Kind::TrailingSlash => {
                if input.ignore_trailing_slash() {
                    TRANSPARENT
                } else if segments.is_empty() {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else if index + 1 < segments.len() {
                    TRANSPARENT
                } else if index >= segments.len() {
                    FAILED_PATH
                } else if !segments[index].is_empty() {
                    TRANSPARENT
                } else if input.has_trailing_slash() {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 1 }
                } else {
                    FAILED_PATH
                }
            }
            Kind::Method(method) => {
                if input.request().method() == method {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else if input.request().treats_head_as_get()
                    && method == Method::GET
                    && input.request().method() == Method::HEAD
                {
                    Evaluation::Success { quality: quality::HEAD_AS_GET, increment: 0 }
                } else {
                    Evaluation::Failure { quality: quality::FAILED_METHOD, status: StatusCode::METHOD_NOT_ALLOWED }
                }
            }
            _ => self.evaluate_request(input),
        }
    }

    /// Tests a selector on the query, the headers or the host: out of line, so that the walk over path and
    /// method selectors, the common case, stays small.
    #[inline(never)]
    fn evaluate_request(&self, input: &ResolveInput<'_, '_>) -> Evaluation {
        match &self.kind {
            Kind::Root { .. }
            | Kind::Constant(_)
            | Kind::Parameter { .. }
            | Kind::Wildcard
            | Kind::Tailcard { .. }
            | Kind::TrailingSlash
            | Kind::Method(_) => unreachable!("path and method selectors are tested by `evaluate`"),
            Kind::QueryValue { name, value } => {
                if input.request().query().get_all(name).any(|found| found == value) {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else {
                    FAILED_PARAMETER
                }
            }
            Kind::Query { name, optional } => {
                if input.request().query().contains(name) {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else if *optional {
                    MISSING
                } else {
                    FAILED_PARAMETER
                }
            }
            Kind::Header { name, value } => {
                let mut best = None::<f64>;
                for header in input.request().header_values(name) {
                    if let Some(item) =
                        media::parse_and_sort(header).into_iter().find(|item| item.value.eq_ignore_ascii_case(value))
                    {
                        best = Some(best.map_or(item.quality, |q| q.max(item.quality)));
                    }
                }
                match best {
                    Some(quality) => Evaluation::Success { quality, increment: 0 },
                    None => FAILED_PARAMETER,
                }
            }
            Kind::Accept(types) => evaluate_accept(input, types),
            Kind::ContentType(types) => {
                let failed = Evaluation::Failure {
                    quality: quality::FAILED_PARAMETER,
                    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                };
                let Some(header) = input.request().header_values(&http::header::CONTENT_TYPE).next() else {
                    return failed;
                };
                let Some(content_type) = MediaType::parse(header) else { return failed };
                if types.iter().any(|pattern| content_type.matches(pattern)) {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else {
                    failed
                }
            }
            Kind::Host { hosts, ports } => {
                let (host, port) = input.request().host_and_port();
                let host_ok = hosts.is_empty() || hosts.iter().any(|expected| expected.eq_ignore_ascii_case(host));
                let port_ok = ports.is_empty() || ports.contains(&port);
                if host_ok && port_ok {
                    Evaluation::Success { quality: quality::CONSTANT, increment: 0 }
                } else {
                    FAILED_PATH
                }
            }
        }
    }

    /// Adds what the selector captures at `index` (after it matched there) to `parameters`.
    pub(crate) fn capture(&self, input: &ResolveInput<'_, '_>, index: usize, parameters: &mut crate::call::Parameters) {
        let segments = input.segments();
        match &self.kind {
            Kind::Parameter { name, prefix, suffix, .. } => {
                if let Some(segment) = segments.get(index).filter(|segment| !segment.is_empty()) {
                    if let Some(value) = strip_affixes(segment, prefix, suffix) {
                        parameters.append(*name, value);
                    }
                }
            }
            Kind::Tailcard { name, prefix } if !name.is_empty() => {
                for (offset, segment) in segments.iter().skip(index).enumerate() {
                    let value = if offset == 0 { &segment[prefix.len()..] } else { &**segment };
                    parameters.append(*name, value);
                }
            }
            Kind::Host { .. } => {
                let (host, port) = input.request().host_and_port();
                parameters.append(HOST_PARAMETER, host);
                parameters.append(PORT_PARAMETER, port.to_string());
            }
            _ => {}
        }
    }
}

fn evaluate_parameter(segment: Option<&str>, prefix: &str, suffix: &str, optional: bool) -> Evaluation {
    let failed = |segment: Option<&str>| match (optional, segment) {
        (false, _) => FAILED_PATH,
        (true, Some("")) => Evaluation::Success { quality: quality::MISSING, increment: 1 },
        (true, _) => MISSING,
    };
    let Some(part) = segment.filter(|part| !part.is_empty()) else { return failed(segment) };
    // A plain `{id}` takes any non-empty segment. Testing it against the empty prefix and suffix anyway would
    // cost a `memcmp` at an empty `String`'s dangling address, which glibc's AVX-512 version makes slow.
    if prefix.is_empty() && suffix.is_empty() {
        return Evaluation::Success { quality: quality::PARAMETER, increment: 1 };
    }
    if strip_affixes(part, prefix, suffix).is_none() {
        return failed(segment);
    }
    Evaluation::Success { quality: quality::PARAMETER_WITH_PREFIX_OR_SUFFIX, increment: 1 }
}

/// `segment` without `prefix` and `suffix`, if it has both (they do not overlap); the empty affixes of a plain
/// parameter are not compared at all (see [`evaluate_parameter`]).
pub(crate) fn strip_affixes<'s>(segment: &'s str, prefix: &str, suffix: &str) -> Option<&'s str> {
    let rest = if prefix.is_empty() { segment } else { segment.strip_prefix(prefix)? };
    if suffix.is_empty() { Some(rest) } else { rest.strip_suffix(suffix) }
}

fn evaluate_accept(input: &ResolveInput<'_, '_>, types: &[MediaType]) -> Evaluation {
    let mut items = Vec::new();
    for header in input.request().header_values(&http::header::ACCEPT) {
        items.extend(media::parse_and_sort(header));
    }
    items.sort_by(|a, b| b.quality.total_cmp(&a.quality));
    if items.is_empty() {
        return MISSING;
    }
    let found = items.iter().find(|item| {
        MediaType::parse(item.value).is_some_and(|accepted| types.iter().any(|t| t.is_compatible_with(&accepted)))
    });
    match found {
        Some(item) => Evaluation::Success { quality: item.quality, increment: 0 },
        None => Evaluation::Failure { quality: quality::FAILED_PARAMETER, status: StatusCode::NOT_ACCEPTABLE },
    }
}

impl fmt::Display for RouteSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Root { segments } => write!(f, "{}", segments.join("/")),
            Kind::Constant(value) => f.write_str(value),
            Kind::Parameter { name, prefix, suffix, optional } => {
                write!(f, "{prefix}{{{name}{}}}{suffix}", if *optional { "?" } else { "" })
            }
            Kind::Wildcard => f.write_str("*"),
            Kind::Tailcard { name, prefix } => write!(f, "{prefix}{{{name}...}}"),
            Kind::TrailingSlash => f.write_str("<slash>"),
            Kind::Method(method) => write!(f, "(method:{method})"),
            Kind::QueryValue { name, value } => write!(f, "[{name} = {value}]"),
            Kind::Query { name, optional } => write!(f, "[{name}{}]", if *optional { "?" } else { "" }),
            Kind::Header { name, value } => write!(f, "(header:{name} = {value})"),
            Kind::Accept(types) => write!(f, "(accept:{})", join(types)),
            Kind::ContentType(types) => write!(f, "(contentType:{})", join(types)),
            Kind::Host { hosts, ports } => {
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                write!(f, "(host:{} port:{})", hosts.join("|"), ports.join("|"))
            }
        }
    }
}

fn join(types: &[MediaType]) -> String {
    types.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
