//! `RequestHeaders`: a request's header fields, as a map or as the fields an engine parsed, made into a map only
//! when something asks for the map.

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// One parsed field: its name and where its value lies in the head.
pub type RawField = (HeaderName, Range<usize>);

/// The header fields of a request.
///
/// Made from a `HeaderMap` ([`From`]), or by an engine that parses heads itself from the head's bytes and where
/// each field lies in it ([`from_raw`](Self::from_raw)): then the map is built on the first call of
/// [`map`](Self::map) (from [`ApplicationRequest::headers`](super::ApplicationRequest::headers)), and lookups of
/// one name ([`values`](Self::values), [`ApplicationRequest::header`](super::ApplicationRequest::header),
/// routing's header selectors, ContentNegotiation's `Accept`) read the fields where they lie. A call that never
/// asks for the map costs no map, no value of its own per field and no reference count per value.
///
/// ```
/// use rotor::bytes::Bytes;
/// use rotor::call::RequestHeaders;
/// use rotor::http::header::{ACCEPT, HOST};
///
/// let head = Bytes::from_static(b"GET / HTTP/1.1\r\nHost: example.com\r\nAccept: text/plain\r\n\r\n");
/// let headers = RequestHeaders::from_raw(head, vec![(HOST, 22..33), (ACCEPT, 43..53)]);
/// assert_eq!(headers.values(&ACCEPT).collect::<Vec<_>>(), [b"text/plain"]);
/// assert!(!headers.is_map_built(), "a lookup of one name builds no map");
/// assert_eq!(headers.map()["host"], "example.com");
/// assert!(headers.is_map_built());
/// ```
pub struct RequestHeaders {
    repr: Repr,
}

enum Repr {
    /// A map given.
    Map(HeaderMap),
    /// The fields as the engine parsed them, and the map built from them on first use (boxed: a request that
    /// never builds it carries one word for it, not a map).
    Raw(RawFields, OnceLock<Box<HeaderMap>>),
}

/// The head's bytes and the fields in it.
struct RawFields {
    head: Bytes,
    fields: Vec<RawField>,
}

impl RequestHeaders {
    /// The fields of a head an engine parsed: `head` holds the request head as received, and `fields` each
    /// field's name and the range of its value in `head`, in the order they came.
    ///
    /// Each value must be a valid field value (no control character other than horizontal tab), and there may
    /// be at most as many fields as a `HeaderMap` holds: the engine's parser checks both, and lookups of one name
    /// trust the first. An engine that breaks the rules gets no panic: a field whose range lies outside `head` is
    /// left out of the map and of lookups; a value that is not valid, or a field beyond what a map holds, is left
    /// out of the map (lookups made before the map exists still return an invalid value's bytes).
    pub fn from_raw(head: Bytes, fields: Vec<RawField>) -> Self {
        RequestHeaders { repr: Repr::Raw(RawFields { head, fields }, OnceLock::new()) }
    }

    /// The fields as a map, built from the parsed fields on first use.
    pub fn map(&self) -> &HeaderMap {
        match &self.repr {
            Repr::Map(map) => map,
            Repr::Raw(raw, map) => map.get_or_init(|| Box::new(raw.to_map())),
        }
    }

    /// The map if it exists, else the parsed fields.
    fn source(&self) -> Result<&HeaderMap, &RawFields> {
        match &self.repr {
            Repr::Map(map) => Ok(map),
            Repr::Raw(raw, map) => map.get().map(|map| &**map).ok_or(raw),
        }
    }

    /// True once the map exists (given, or built by [`map`](Self::map)).
    pub fn is_map_built(&self) -> bool {
        self.source().is_ok()
    }

    /// The values of every field named `name`, in order, as bytes; from the map if it exists, else from the
    /// parsed fields (no map is built).
    pub fn values<'a>(&'a self, name: &'a HeaderName) -> Values<'a> {
        match self.source() {
            Err(raw) => Values { source: Source::Raw { raw, name, next: 0 } },
            Ok(map) => Values { source: Source::Map(map.get_all(name).iter()) },
        }
    }

    /// The value of the field named `name` if exactly one field has that name (see [`values`](Self::values)):
    /// one pass over the fields, for a lookup that treats one field apart from none or several.
    pub(crate) fn only<'a>(&'a self, name: &HeaderName) -> Option<&'a [u8]> {
        match self.source() {
            Err(raw) => {
                let mut only = None;
                for (field, range) in &raw.fields {
                    if field == name {
                        if let Some(value) = raw.value(range) {
                            if only.is_some() {
                                return None;
                            }
                            only = Some(value);
                        }
                    }
                }
                only
            }
            Ok(map) => {
                let mut values = map.get_all(name).iter();
                match (values.next(), values.next()) {
                    (Some(value), None) => Some(value.as_bytes()),
                    _ => None,
                }
            }
        }
    }

    /// The first value of the field named `name`, if any (see [`values`](Self::values)).
    pub fn first<'a>(&'a self, name: &'a HeaderName) -> Option<&'a [u8]> {
        self.values(name).next()
    }

    /// The first value of the field named `name` (any case), if it is visible ASCII: what
    /// `HeaderMap::get(name)` and `HeaderValue::to_str` give, without a map.
    pub fn first_str(&self, name: &str) -> Option<&str> {
        match self.source() {
            Err(raw) => {
                let value = raw
                    .fields
                    .iter()
                    .filter(|(field, _)| field.as_str().eq_ignore_ascii_case(name))
                    .find_map(|(_, range)| raw.value(range))?;
                visible_ascii(value)
            }
            Ok(map) => map.get(name)?.to_str().ok(),
        }
    }

    /// Takes the parts an engine may reuse for its next request: the map if there is one, and the vector of
    /// parsed fields (emptied), if the fields were given so.
    pub fn into_parts(self) -> (Option<HeaderMap>, Option<Vec<RawField>>) {
        match self.repr {
            Repr::Map(map) => (Some(map), None),
            Repr::Raw(raw, map) => {
                let mut fields = raw.fields;
                fields.clear();
                (map.into_inner().map(|map| *map), Some(fields))
            }
        }
    }
}

impl RawFields {
    /// The bytes of the value at `range`, if `range` lies in the head.
    fn value(&self, range: &Range<usize>) -> Option<&[u8]> {
        self.head.get(range.clone())
    }

    /// The map of the fields (without those it cannot hold: see [`RequestHeaders::from_raw`]).
    fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::try_with_capacity(self.fields.len()).unwrap_or_default();
        for (name, range) in &self.fields {
            if self.value(range).is_none() {
                continue;
            }
            if let Ok(value) = HeaderValue::from_maybe_shared(self.head.slice(range.clone())) {
                if map.try_append(name.clone(), value).is_err() {
                    break;
                }
            }
        }
        map
    }
}

impl From<HeaderMap> for RequestHeaders {
    fn from(map: HeaderMap) -> Self {
        RequestHeaders { repr: Repr::Map(map) }
    }
}

impl Default for RequestHeaders {
    /// No fields: as parsed, an empty list (whose drop frees nothing; an empty map's takes about 70 instructions).
    fn default() -> Self {
        RequestHeaders::from_raw(Bytes::new(), Vec::new())
    }
}

impl fmt::Debug for RequestHeaders {
    /// The map if it exists, else the parsed fields (debug output builds no map).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source() {
            Ok(map) => fmt::Debug::fmt(map, f),
            Err(raw) => f
                .debug_map()
                .entries(raw.fields.iter().map(|(name, range)| (name, raw.value(range).map(String::from_utf8_lossy))))
                .finish(),
        }
    }
}

/// The values of one field name, as bytes; made by [`RequestHeaders::values`].
pub struct Values<'a> {
    source: Source<'a>,
}

enum Source<'a> {
    /// From the map.
    Map(http::header::ValueIter<'a, HeaderValue>),
    /// From the parsed fields: the next index to look at.
    Raw { raw: &'a RawFields, name: &'a HeaderName, next: usize },
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.source {
            Source::Map(values) => values.next().map(HeaderValue::as_bytes),
            Source::Raw { raw, name, next } => {
                let raw: &'a RawFields = raw;
                while let Some((field, range)) = raw.fields.get(*next) {
                    *next += 1;
                    if field == *name {
                        if let Some(value) = raw.value(range) {
                            return Some(value);
                        }
                    }
                }
                None
            }
        }
    }
}

impl fmt::Debug for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Values")
    }
}

/// `value` as text if it is visible ASCII (and tabs), as `HeaderValue::to_str` gives it.
pub(crate) fn visible_ascii(value: &[u8]) -> Option<&str> {
    if value.iter().all(|&byte| (0x20..0x7f).contains(&byte) || byte == b'\t') {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use http::header::{ACCEPT, CONTENT_TYPE, HOST, USER_AGENT};
    use http::{Method, Uri, Version};

    use super::*;
    use crate::call::{ApplicationRequest, Body};
    use crate::{Application, ApplicationCall};

    /// A head with `fields` (name, value) and the fields as an engine that parses heads gives them.
    fn parsed(fields: &[(&str, &[u8])]) -> (Bytes, Vec<RawField>) {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        let mut raw = Vec::new();
        for (name, value) in fields {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            raw.push((HeaderName::from_bytes(name.as_bytes()).unwrap(), head.len()..head.len() + value.len()));
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        (head.into(), raw)
    }

    fn raw_headers(fields: &[(&str, &[u8])]) -> RequestHeaders {
        let (head, raw) = parsed(fields);
        RequestHeaders::from_raw(head, raw)
    }

    #[test]
    fn lookups_read_the_parsed_fields_without_a_map_and_agree_with_the_map() {
        let fields: &[(&str, &[u8])] = &[
            ("Host", b"example.com"),
            ("Accept", b"text/plain"),
            ("X-Kind", b"a"),
            ("accept", b"*/*"),
            ("X-Latin", b"caf\xe9"),
            ("Content-Type", b"application/json"),
        ];
        let headers = raw_headers(fields);
        let kind = HeaderName::from_static("x-kind");
        let latin = HeaderName::from_static("x-latin");
        assert_eq!(headers.values(&ACCEPT).collect::<Vec<_>>(), [&b"text/plain"[..], b"*/*"]);
        assert_eq!(headers.first(&kind), Some(&b"a"[..]));
        assert_eq!(headers.first_str("X-KIND"), Some("a"), "any case");
        assert_eq!(headers.first_str("host"), Some("example.com"));
        assert_eq!(headers.first(&latin), Some(&b"caf\xe9"[..]));
        assert_eq!(headers.first_str("x-latin"), None, "not visible ASCII, as HeaderValue::to_str");
        assert_eq!(headers.first(&USER_AGENT), None);
        assert_eq!(headers.first_str("user-agent"), None);
        assert!(!headers.is_map_built(), "no lookup built the map");

        let map = headers.map();
        assert!(headers.is_map_built());
        assert_eq!(map.len(), fields.len());
        assert_eq!(map.get_all(ACCEPT).iter().collect::<Vec<_>>(), ["text/plain", "*/*"]);
        assert_eq!(map[CONTENT_TYPE], "application/json");
        assert_eq!(map[&latin].as_bytes(), b"caf\xe9");
        // Once built, lookups read the map, and find the same.
        assert_eq!(headers.values(&ACCEPT).collect::<Vec<_>>(), [&b"text/plain"[..], b"*/*"]);
        assert_eq!(headers.first_str("x-kind"), Some("a"));
        assert_eq!(headers.first_str("x-latin"), None);
    }

    #[test]
    fn only_gives_the_value_of_a_name_sent_exactly_once() {
        let headers = raw_headers(&[("Accept", b"text/plain"), ("X-Kind", b"a"), ("accept", b"*/*"), ("Host", b"h")]);
        let kind = HeaderName::from_static("x-kind");
        for map_built in [false, true] {
            assert_eq!(headers.only(&kind), Some(&b"a"[..]), "map built: {map_built}");
            assert_eq!(headers.only(&HOST), Some(&b"h"[..]), "the last field: {map_built}");
            assert_eq!(headers.only(&ACCEPT), None, "two fields: {map_built}");
            assert_eq!(headers.only(&USER_AGENT), None, "none: {map_built}");
            assert_eq!(headers.is_map_built(), map_built);
            headers.map();
        }
        // A field whose range lies outside the head does not count, as in every other lookup.
        let (head, mut raw) = parsed(&[("Accept", b"*/*")]);
        raw.push((ACCEPT, head.len() + 5..head.len() + 9));
        assert_eq!(RequestHeaders::from_raw(head, raw).only(&ACCEPT), Some(&b"*/*"[..]));
    }

    #[test]
    fn a_field_an_engine_got_wrong_is_left_out_and_nothing_panics() {
        let (head, mut raw) = parsed(&[("Host", b"h"), ("X-Bad", b"a\x00b"), ("X-Good", b"g")]);
        raw.push((HeaderName::from_static("x-outside"), head.len() + 5..head.len() + 9));
        let (start, end) = (9, 3);
        raw.push((HeaderName::from_static("x-reversed"), start..end));
        // A field of the same name after the one outside the head: every lookup skips to it, as the map does.
        raw.push((HeaderName::from_static("x-outside"), 16..17));
        let headers = RequestHeaders::from_raw(head, raw);
        let outside = HeaderName::from_static("x-outside");
        assert_eq!(headers.first(&outside), Some(&b"H"[..]));
        assert_eq!(headers.first_str("x-outside"), Some("H"));
        assert_eq!(headers.first(&HeaderName::from_static("x-reversed")), None);
        assert!(format!("{headers:?}").contains("x-good"), "debug output shows the fields");
        assert!(!headers.is_map_built(), "debug output builds no map");
        let map = headers.map();
        assert_eq!(map.keys().map(HeaderName::as_str).collect::<Vec<_>>(), ["host", "x-good", "x-outside"]);
        assert_eq!(map[&outside], "H");
    }

    #[test]
    fn more_fields_than_a_map_holds_build_a_full_map_without_panicking() {
        // A map holds 32,768 entries (a rotor-cio head has at most 16,384 fields): an engine that gives more loses
        // the rest.
        let head = Bytes::from_static(b"v");
        let names = (0..40_000).map(|index| HeaderName::from_bytes(format!("x-{index}").as_bytes()).unwrap());
        let headers = RequestHeaders::from_raw(head, names.map(|name| (name, 0..1)).collect());
        let map = headers.map();
        assert!(map.len() >= 16_384 && map.len() < 40_000, "{}", map.len());
    }

    #[test]
    fn a_map_given_is_the_map_and_parts_go_back_to_the_engine() {
        let mut map = HeaderMap::new();
        map.insert(HOST, HeaderValue::from_static("example.com"));
        let given = RequestHeaders::from(map);
        assert!(given.is_map_built());
        assert_eq!(given.first_str("host"), Some("example.com"));
        let (map, fields) = given.into_parts();
        assert_eq!(map.expect("the map")[HOST], "example.com");
        assert!(fields.is_none(), "no parsed fields");

        let (head, raw) = parsed(&[("Host", b"h"), ("Accept", b"*/*")]);
        let capacity = raw.capacity();
        let unread = RequestHeaders::from_raw(head.clone(), raw.clone());
        let (map, fields) = unread.into_parts();
        assert!(map.is_none(), "never built");
        let fields = fields.expect("the vector of fields");
        assert!(fields.is_empty() && fields.capacity() >= 2, "emptied, its allocation kept");

        let call = ApplicationCall::new(
            std::sync::Arc::new(Application::default()),
            ApplicationRequest::from_head(
                Method::GET,
                Uri::from_static("/"),
                Version::HTTP_11,
                RequestHeaders::from_raw(head.clone(), raw.clone()),
                None,
                None,
            ),
            Body::empty(),
        );
        let (map, fields) = call.into_request_headers().expect("the last handle").into_parts();
        assert!(map.is_none() && fields.is_some_and(|fields| fields.is_empty()));

        let read = RequestHeaders::from_raw(head, raw);
        let _ = read.map();
        let (map, fields) = read.into_parts();
        assert_eq!(map.expect("built")[ACCEPT], "*/*");
        assert_eq!(fields.expect("the vector").capacity(), capacity);
    }

    #[tokio::test]
    async fn a_call_routed_on_a_header_and_answered_builds_no_map() {
        let mut app = Application::default();
        app.routing(|r| {
            r.header("x-kind", "a", |r| {
                r.get("/", |call: ApplicationCall| async move {
                    let host = call.request().header("host").unwrap_or_default().to_owned();
                    call.respond_text(host).await
                });
            });
        });
        let app = std::sync::Arc::new(app);
        // The same answers as for a request given as a map (a failed header selector answers 400, as Ktor's).
        for (kind, status) in [(&b"a"[..], 200), (b"b", 400)] {
            let (head, raw) = parsed(&[("Host", b"example.com"), ("X-Kind", kind)]);
            let as_map = RequestHeaders::from_raw(head.clone(), raw.clone()).map().clone();
            for headers in [RequestHeaders::from_raw(head, raw), RequestHeaders::from(as_map)] {
                let given_as_map = headers.is_map_built();
                let uri = Uri::from_static("/");
                let request = ApplicationRequest::from_head(Method::GET, uri, Version::HTTP_11, headers, None, None);
                let mut execution = ApplicationCall::new(app.clone(), request, Body::empty()).execute();
                (&mut execution).await.expect("executed");
                let built = execution.call().request().request_headers().is_map_built();
                assert_eq!(built, given_as_map, "status {status}: no map built for parsed fields");
                let (answer, headers) = execution.into_call().into_engine_parts();
                let answer = answer.expect("answered");
                assert_eq!(answer.status(), status);
                if status == 200 {
                    let body = answer.into_http_response().into_body().collect().await;
                    assert_eq!(body.expect("the body"), "example.com");
                }
                let (map, fields) = headers.expect("the last handle").into_parts();
                assert_eq!((map.is_some(), fields.is_some()), (given_as_map, !given_as_map));
            }
        }
    }
}
