//! `EngineResponse`: a call's committed answer in the parts an engine writes, without merging them into one
//! header map first.

use std::fmt;
use std::sync::LazyLock;

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::Body;
use super::response_defaults::ResponseDefaults;

/// The answer of a call, taken by an engine with
/// [`ApplicationResponse::take_engine_response`](super::ApplicationResponse::take_engine_response): the status,
/// the header fields to write and the body.
///
/// The fields come in three parts, written in this order by [`fields`](Self::fields): the response's own header
/// map, the content's type (when the map has no `Content-Type`), and the default fields a plugin such as
/// DefaultHeaders set aside (each only if no earlier part has its name). An engine that writes its own head walks
/// them once, which spares the allocation of a header map for an answer that sets no header of its own; an
/// engine that needs an [`http::Response`] gets one from [`into_http_response`](Self::into_http_response).
/// Neither adds `Content-Length`: framing is the engine's (see
/// [`take_http_response`](super::ApplicationResponse::take_http_response) for an answer with it).
///
/// ```
/// # rotor::doc_call(|call| async move {
/// use rotor::http::header::CONTENT_TYPE;
///
/// call.response().set_header("x-answer", "42")?;
/// call.respond_text("hi").await?;
/// let response = call.response().take_engine_response().expect("answered");
/// assert_eq!(response.status(), 200);
/// let names: Vec<&str> = response.fields().map(|(name, _)| name.as_str()).collect();
/// assert_eq!(names, ["x-answer", "content-type"]);
/// assert_eq!(response.get(&CONTENT_TYPE).unwrap(), "text/plain; charset=utf-8");
/// assert_eq!(response.body().exact_len(), Some(2));
/// # Ok(()) });
/// ```
pub struct EngineResponse {
    pub(super) status: StatusCode,
    /// The response's own fields; `None` when it has none (most answers: no map to drop).
    pub(super) headers: Option<HeaderMap>,
    /// The content's type, `None` where the map has a `Content-Type` of its own.
    pub(super) content_type: Option<HeaderValue>,
    /// Defaults for the names neither the map nor the content type has.
    pub(super) defaults: Option<ResponseDefaults>,
    pub(super) body: Body,
}

impl EngineResponse {
    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response's own header map: the fields a handler or a plugin set on the response (and the content's
    /// own fields); not the content type or the defaults, which [`fields`](Self::fields) adds.
    pub fn headers(&self) -> &HeaderMap {
        /// The map of an answer without fields of its own.
        static EMPTY: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);
        self.headers.as_ref().unwrap_or_else(|| &EMPTY)
    }

    /// Every header field to write, in order: the map's, the content type, then the defaults the map does not
    /// override. A name with several values yields one item per value.
    pub fn fields(&self) -> Fields<'_> {
        let headers = self.headers();
        Fields {
            map: headers.iter(),
            headers,
            content_type: self.content_type.as_ref(),
            defaults: self.defaults.as_ref(),
            next_default: 0,
            values: [].iter(),
            default_name: None,
        }
    }

    /// The first value of `name` among [`fields`](Self::fields).
    pub fn get(&self, name: &HeaderName) -> Option<&HeaderValue> {
        if let Some(value) = self.headers().get(name) {
            return Some(value);
        }
        if *name == CONTENT_TYPE && self.content_type.is_some() {
            return self.content_type.as_ref();
        }
        let defaults = self.defaults.as_ref()?;
        (0..defaults.len()).find_map(|index| defaults.get(index).filter(|(default, _)| *default == name)?.1.first())
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The body, for reading.
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// The body alone, for an engine that has written the head from [`fields`](Self::fields).
    pub fn into_body(self) -> Body {
        self.body
    }

    /// The answer as an [`http::Response`], every field in its header map (in the order [`fields`](Self::fields)
    /// gives, the defaults before the content type where the map had neither), without `Content-Length`.
    pub fn into_http_response(self) -> http::Response<Body> {
        let EngineResponse { status, headers, content_type, defaults, body } = self;
        let mut headers = headers.unwrap_or_default();
        super::response::merge_parts(&mut headers, defaults, content_type, None);
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

/// The header fields of an [`EngineResponse`], in the order they are written; made by
/// [`EngineResponse::fields`].
pub struct Fields<'a> {
    map: http::header::Iter<'a, HeaderValue>,
    headers: &'a HeaderMap,
    content_type: Option<&'a HeaderValue>,
    defaults: Option<&'a ResponseDefaults>,
    /// The index in the defaults' list of the next name to look at.
    next_default: usize,
    /// The values of the default name being written, and that name.
    values: std::slice::Iter<'a, HeaderValue>,
    default_name: Option<&'a HeaderName>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a HeaderName, &'a HeaderValue);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(field) = self.map.next() {
            return Some(field);
        }
        if let Some(content_type) = self.content_type.take() {
            return Some((&CONTENT_TYPE, content_type));
        }
        loop {
            if let (Some(name), Some(value)) = (self.default_name, self.values.next()) {
                return Some((name, value));
            }
            let defaults = self.defaults?;
            if self.next_default >= defaults.len() {
                self.defaults = None;
                return None;
            }
            let index = self.next_default;
            self.next_default += 1;
            // A default applies where the map has no field of its name (the content type was checked when it was
            // set aside).
            if let Some((name, values)) = defaults.get(index).filter(|(name, _)| !self.headers.contains_key(*name)) {
                self.default_name = Some(name);
                self.values = values.iter();
            }
        }
    }

    /// The rest of the fields in one pass (what `for_each` runs, as an engine writing a head does): the same
    /// fields in the same order as [`next`](Self::next) gives, without its per-field bookkeeping.
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let mut acc = self.map.fold(init, &mut f);
        if let Some(content_type) = self.content_type.take() {
            acc = f(acc, (&CONTENT_TYPE, content_type));
        }
        if let Some(name) = self.default_name {
            acc = self.values.fold(acc, |acc, value| f(acc, (name, value)));
        }
        let Some(defaults) = self.defaults else { return acc };
        // The common answer sets no field of its own: nothing to look up then.
        let own_fields = !self.headers.is_empty();
        for index in self.next_default..defaults.len() {
            let Some((name, values)) = defaults.get(index) else { continue };
            if own_fields && self.headers.contains_key(name) {
                continue;
            }
            acc = values.iter().fold(acc, |acc, value| f(acc, (name, value)));
        }
        acc
    }
}

impl fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields").finish_non_exhaustive()
    }
}

impl fmt::Debug for EngineResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineResponse")
            .field("status", &self.status)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .field("body", &self.body)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use http::header::{CONTENT_TYPE, SERVER};
    use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

    use super::{Body, EngineResponse, ResponseDefaults};
    use crate::call::DefaultFields;

    fn value(text: &'static str) -> HeaderValue {
        HeaderValue::from_static(text)
    }

    /// A response with a field of its own, a content type, and defaults: `server` (two values), `x-own` (which
    /// the map overrides), `x-masked` (masked out), `x-last`.
    fn response(own: bool) -> EngineResponse {
        let mut headers = HeaderMap::new();
        if own {
            headers.insert("x-own", value("mine"));
        }
        let fields = DefaultFields::new(vec![
            (SERVER, vec![value("a"), value("b")]),
            (HeaderName::from_static("x-own"), vec![value("default")]),
            (HeaderName::from_static("x-masked"), vec![value("no")]),
            (HeaderName::from_static("x-last"), vec![value("z")]),
        ]);
        EngineResponse {
            status: StatusCode::OK,
            headers: own.then_some(headers),
            content_type: Some(value("text/plain")),
            defaults: Some(ResponseDefaults::new(fields, 0b1011)),
            body: Body::empty(),
        }
    }

    fn pairs<'a>(fields: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>) -> Vec<(String, String)> {
        fields.map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("?").to_owned())).collect()
    }

    #[test]
    fn walking_the_fields_in_one_pass_gives_what_next_gives_from_any_point() {
        for own in [true, false] {
            let response = response(own);
            let by_next = pairs(response.fields());
            let expected: Vec<(&str, &str)> = if own {
                vec![
                    ("x-own", "mine"),
                    ("content-type", "text/plain"),
                    ("server", "a"),
                    ("server", "b"),
                    ("x-last", "z"),
                ]
            } else {
                vec![
                    ("content-type", "text/plain"),
                    ("server", "a"),
                    ("server", "b"),
                    ("x-own", "default"),
                    ("x-last", "z"),
                ]
            };
            let expected: Vec<(String, String)> =
                expected.into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
            assert_eq!(by_next, expected, "own field: {own}");
            // Started by `next` at every point (inside the map, the content type, a default's values), then folded.
            for taken in 0..=expected.len() {
                let mut fields = response.fields();
                let mut walked = pairs(fields.by_ref().take(taken));
                fields.for_each(|(name, value)| walked.push((name.to_string(), value.to_str().unwrap().to_owned())));
                assert_eq!(walked, expected, "own field: {own}, {taken} taken by next first");
            }
        }
        assert_eq!(response(false).get(&CONTENT_TYPE).map(HeaderValue::as_bytes), Some(&b"text/plain"[..]));
    }
}
