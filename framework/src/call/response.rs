//! `ApplicationResponse`: the status and headers a call answers with, and the committed content.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, Entry};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::response_defaults::ResponseDefaults;
use super::{Body, CallState, EngineResponse, OutgoingContent};
use crate::{Error, Result};

/// The response of a call as it is being built: status and headers that interceptors and handlers set before
/// [`respond`](super::ApplicationCall::respond) commits the content.
///
/// ```
/// # rotor::doc_call(|call| async move {
/// use rotor::http::StatusCode;
///
/// call.response().set_status(StatusCode::ACCEPTED);
/// call.response().append_header("x-request-kind", "demo")?;
/// assert_eq!(call.response().status(), Some(StatusCode::ACCEPTED));
/// assert!(!call.response().is_committed());
/// call.respond_text("queued").await?;
/// assert!(call.response().is_committed());
/// # Ok(()) });
/// ```
pub struct ApplicationResponse<'a> {
    pub(super) state: &'a std::sync::Mutex<CallState>,
    pub(super) committed: &'a AtomicBool,
}

impl fmt::Debug for ApplicationResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock_headers();
        f.debug_struct("ApplicationResponse")
            .field("status", &state.status)
            .field("headers", &state.headers)
            .field("committed", &self.is_committed())
            .finish()
    }
}

impl<'a> ApplicationResponse<'a> {
    /// The call's state, locked, with pending defaults inserted into the header map (anything that looks at or
    /// changes the map sees them as if they had been inserted when they were set).
    fn lock_headers(&self) -> MutexGuard<'a, CallState> {
        let mut state = self.lock();
        if let Some(defaults) = state.defaults.take() {
            defaults.materialize(&mut state.headers);
        }
        state
    }

    fn lock(&self) -> MutexGuard<'a, CallState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The status set so far, if any (the content's own status wins when it has one; 200 otherwise).
    pub fn status(&self) -> Option<StatusCode> {
        self.lock().status
    }

    /// Sets the status.
    pub fn set_status(&self, status: StatusCode) {
        self.lock().status = Some(status);
    }

    /// The headers, locked for reading. Do not hold the guard across an `.await`.
    pub fn headers(&self) -> HeadersGuard<'a> {
        HeadersGuard { state: self.lock_headers() }
    }

    /// The headers, locked for changing. Do not hold the guard across an `.await`.
    pub fn headers_mut(&self) -> HeadersGuard<'a> {
        self.headers()
    }

    /// Appends a header.
    ///
    /// # Errors
    /// If the name or the value is not a valid header name or value.
    pub fn append_header<N, V>(&self, name: N, value: V) -> Result<()>
    where
        N: TryInto<HeaderName>,
        N::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        let (name, value) = header_pair(name, value)?;
        self.lock_headers().headers.append(name, value);
        Ok(())
    }

    /// Sets a header, replacing any values it had.
    ///
    /// # Errors
    /// If the name or the value is not a valid header name or value.
    pub fn set_header<N, V>(&self, name: N, value: V) -> Result<()>
    where
        N: TryInto<HeaderName>,
        N::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        let (name, value) = header_pair(name, value)?;
        self.lock_headers().headers.insert(name, value);
        Ok(())
    }

    /// True once content has been committed: the call is answered (Ktor's `isCommitted`/`isHandled`).
    pub fn is_committed(&self) -> bool {
        self.committed.load(Ordering::Acquire)
    }

    /// Commits `content` as the answer to the call. Engines and the send pipeline's last step use this.
    ///
    /// # Errors
    /// If the call was already answered ([`Error::is_response_already_sent`]).
    pub fn commit(&self, content: OutgoingContent) -> Result<()> {
        let mut state = self.lock();
        if self.committed.load(Ordering::Acquire) {
            return Err(already_sent());
        }
        self.committed.store(true, Ordering::Release);
        state.content = Some(content);
        Ok(())
    }

    /// Takes the committed response as an `http::Response` for an engine to write: the status (the content's,
    /// else the one set, else 200), the headers set on the response, then the content's own headers (which
    /// replace response headers of the same name), `Content-Type` from the content unless the response set one,
    /// and `Content-Length` when the body's length is known.
    ///
    /// `None` if nothing was committed or it was already taken.
    pub fn take_http_response(&self) -> Option<http::Response<Body>> {
        self.take_http_response_framed(true)
    }

    /// Like [`take_http_response`](Self::take_http_response), but without the `Content-Length` it would add from
    /// the body's exact length: for an engine that writes that header itself from the body's size (the hyper
    /// engine's HTTP/1, for responses to anything but `HEAD`), which saves a header-map insertion per response.
    /// A `Content-Length` set on the response or the content is kept either way.
    pub fn take_http_response_without_length(&self) -> Option<http::Response<Body>> {
        self.take_http_response_framed(false)
    }

    fn take_http_response_framed(&self, add_length: bool) -> Option<http::Response<Body>> {
        let mut state = self.lock();
        let content = state.content.take()?;
        let (body, content_type, content_status, content_headers) = content.into_raw_parts();
        let status = content_status.or(state.status).unwrap_or(StatusCode::OK);
        // The response's headers are swapped in: no empty map made for the state, none dropped for the response.
        let mut response = http::Response::new(body);
        std::mem::swap(response.headers_mut(), &mut state.headers);
        let defaults = state.defaults.take();
        drop(state);
        *response.status_mut() = status;
        merge_parts(response.headers_mut(), defaults, content_type, content_headers);
        if let Some(length) = response.body().exact_len().filter(|_| add_length && !bodyless_status(status)) {
            if let Entry::Vacant(entry) = response.headers_mut().entry(CONTENT_LENGTH) {
                entry.insert(content_length(length));
            }
        }
        Some(response)
    }

    /// Takes the committed response in the parts an engine writes ([`EngineResponse`]): the status (the
    /// content's, else the one set, else 200), the header fields (the response's, the content's type and own
    /// fields, the defaults a plugin set aside), and the body; no `Content-Length` (framing is the engine's).
    /// `None` if the call is not answered or the response was already taken.
    ///
    /// An engine that writes the head itself walks [`EngineResponse::fields`] and allocates no header map for
    /// an answer that sets no field of its own; [`take_http_response`](Self::take_http_response) gives what this
    /// and [`EngineResponse::into_http_response`] give, plus `Content-Length`.
    pub fn take_engine_response(&self) -> Option<EngineResponse> {
        take_engine_response(&mut self.lock())
    }

    /// Sets `defaults` aside on the response: they apply where the response has no field of their names when its
    /// map is next looked at or the response is taken. Defaults already pending go into the map first.
    pub(crate) fn defer_defaults(&self, defaults: ResponseDefaults) {
        let mut state = self.lock();
        let state = &mut *state;
        if let Some(pending) = state.defaults.replace(defaults) {
            pending.materialize(&mut state.headers);
        }
    }
}

/// [`ApplicationResponse::take_engine_response`] on the call's state, however it is reached (locked, or through
/// the call's last handle). Always inlined: called from two places, it was made a function of its own, and its
/// answer (about 200 bytes) was then copied out of it and into its caller's tuple: 58 instructions more per
/// request on rotor-cio (`bench/instructions/measure.sh`).
#[inline(always)]
pub(super) fn take_engine_response(state: &mut CallState) -> Option<EngineResponse> {
    let content = state.content.take()?;
    let (body, content_type, content_status, content_headers) = content.into_raw_parts();
    let status = content_status.or(state.status).unwrap_or(StatusCode::OK);
    // An empty map stays with the call (a spare call keeps its room): the answer has no field of its own.
    let mut headers = (!state.headers.is_empty()).then(|| std::mem::take(&mut state.headers));
    let mut defaults = state.defaults.take();
    let mut content_type = content_type;
    // The content's own fields replace the response's, and a default `Content-Type` would win over the content's
    // (as the map's own does): both are merged into the map here, exactly as they always were. The common answer
    // has neither and keeps its parts apart.
    if content_headers.is_some() || defaults.as_ref().is_some_and(|defaults| defaults.applies_to(&CONTENT_TYPE)) {
        let map = headers.get_or_insert_with(|| std::mem::take(&mut state.headers));
        merge_parts(map, defaults.take(), content_type.take(), content_headers);
    }
    let content_type = content_type.filter(|_| !headers.as_ref().is_some_and(|map| map.contains_key(CONTENT_TYPE)));
    Some(EngineResponse { status, headers, content_type, defaults, body })
}

/// Merges an answer's parts into the response's header map, in the order that decides who wins: the defaults
/// where the map has no field of their name, the content's type where it has no `Content-Type`, then the
/// content's own fields over the map's.
pub(super) fn merge_parts(
    headers: &mut HeaderMap,
    defaults: Option<ResponseDefaults>,
    content_type: Option<HeaderValue>,
    content_headers: Option<Box<HeaderMap>>,
) {
    if let Some(defaults) = defaults {
        defaults.materialize(headers);
    }
    if let Some(content_type) = content_type {
        headers.entry(CONTENT_TYPE).or_insert(content_type);
    }
    if let Some(content_headers) = content_headers {
        merge_content_headers(headers, *content_headers);
    }
}

/// Merges a content's own fields into a response's: the first value of each name replaces the response's, further
/// values of that name are appended.
fn merge_content_headers(headers: &mut HeaderMap, content_headers: HeaderMap) {
    let mut last_name = None;
    for (name, value) in content_headers {
        match name {
            Some(name) => {
                headers.insert(name.clone(), value);
                last_name = Some(name);
            }
            None => {
                if let Some(name) = &last_name {
                    headers.append(name.clone(), value);
                }
            }
        }
    }
}

/// `Content-Length: length`: no allocation below 1000 (the digits are sliced from a static table), otherwise one of
/// the digits' size (`HeaderValue::from(u64)` makes two: a buffer of spare capacity, then a shared handle to it).
fn content_length(length: u64) -> HeaderValue {
    if let Some(digits) = small_decimal(length) {
        if let Ok(value) = HeaderValue::from_maybe_shared(bytes::Bytes::from_static(digits)) {
            return value;
        }
    }
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = length;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    HeaderValue::from_maybe_shared(bytes::Bytes::copy_from_slice(&digits[start..]))
        .unwrap_or_else(|_| HeaderValue::from(length))
}

/// The decimal digits of `number`, from [`DECIMALS`], if it is below 1000.
fn small_decimal(number: u64) -> Option<&'static [u8]> {
    let number = usize::try_from(number).ok().filter(|&number| number < 1000)?;
    let (start, width) = match number {
        0..=9 => (number, 1),
        10..=99 => (10 + 2 * (number - 10), 2),
        _ => (190 + 3 * (number - 100), 3),
    };
    DECIMALS.get(start..start + width)
}

/// 0 to 999 in decimal, one after the other without separators: "0123456789101112…998999".
static DECIMALS: [u8; 2890] = {
    let mut table = [0u8; 2890];
    let mut number = 0;
    let mut at = 0;
    while number < 1000 {
        if number >= 100 {
            table[at] = b'0' + (number / 100) as u8;
            at += 1;
        }
        if number >= 10 {
            table[at] = b'0' + (number / 10 % 10) as u8;
            at += 1;
        }
        table[at] = b'0' + (number % 10) as u8;
        at += 1;
        number += 1;
    }
    table
};

fn bodyless_status(status: StatusCode) -> bool {
    status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

#[cold]
pub(super) fn already_sent() -> Error {
    Error::response_already_sent(
        "the call has already been answered: respond at most once per call (check `call.response().is_committed()` \
         before responding from a plugin)",
    )
}

fn header_pair<N, V>(name: N, value: V) -> Result<(HeaderName, HeaderValue)>
where
    N: TryInto<HeaderName>,
    N::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
{
    let name = name.try_into().map_err(|error| Error::internal(format!("invalid response header name: {error}")))?;
    let value = value
        .try_into()
        .map_err(|error| Error::internal(format!("invalid value for response header `{name}`: {error}")))?;
    Ok((name, value))
}

/// The locked headers of a response; dereferences to [`HeaderMap`].
pub struct HeadersGuard<'a> {
    state: MutexGuard<'a, CallState>,
}

impl Deref for HeadersGuard<'_> {
    type Target = HeaderMap;
    fn deref(&self) -> &HeaderMap {
        &self.state.headers
    }
}

impl DerefMut for HeadersGuard<'_> {
    fn deref_mut(&mut self) -> &mut HeaderMap {
        &mut self.state.headers
    }
}

impl fmt::Debug for HeadersGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.state.headers, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_the_decimal_length() {
        for length in (0..1100).chain([1234, 99_999, u64::MAX]) {
            assert_eq!(content_length(length), HeaderValue::from(length), "{length}");
        }
    }

    #[test]
    fn the_length_is_added_unless_the_engine_writes_it_and_one_set_is_kept() {
        let take = |set: Option<&'static str>, add_length: bool| {
            let state = std::sync::Mutex::new(CallState::default());
            let committed = AtomicBool::new(false);
            let response = ApplicationResponse { state: &state, committed: &committed };
            if let Some(value) = set {
                response.set_header(CONTENT_LENGTH, value).unwrap();
            }
            response.commit(OutgoingContent::text("hello")).unwrap();
            let taken =
                if add_length { response.take_http_response() } else { response.take_http_response_without_length() };
            let headers = taken.unwrap().headers().clone();
            headers.get_all(CONTENT_LENGTH).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(take(None, true), ["5"]);
        assert_eq!(take(None, false), Vec::<String>::new());
        assert_eq!(take(Some("5"), false), ["5"], "a length set on the response stays");
    }
}
