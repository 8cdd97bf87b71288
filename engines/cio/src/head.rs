//! The request head: parsed from the front of the read buffer with httparse, checked against the protocol limits,
//! and read for what the connection needs: how the body is framed, whether the connection stays open, whether
//! the client waits for `100 Continue`.
//!
//! Framing is strict (RFC 9112 §6): one `Content-Length` value (repeated identical values are one), or
//! `Transfer-Encoding: chunked` and nothing else. A request with both is refused rather than guessed at, as is
//! `Transfer-Encoding` in HTTP/1.0; an unknown transfer coding answers 501. Every refusal closes the connection,
//! so that no byte of a request the server did not understand is read as the start of the next one.

use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderName, Method, StatusCode, Uri, Version};
use rotor::call::{ApplicationRequest, RawField, RequestHeaders};
use rotor::engine::ProtocolLimits;

use crate::field_names::FieldNames;

/// How many header fields httparse parses into an array on the stack; a larger `maxHeaders` uses one on the heap.
const INLINE_FIELDS: usize = 128;
/// The most fields a request may have whatever `maxHeaders` says: `http::HeaderMap` holds at most 32,768.
const MAX_FIELDS: usize = 16 * 1024;

/// A request head that passed the limits.
#[derive(Debug)]
pub(crate) struct Head {
    /// The request as the call gets it (made here, so that the head is not moved through an `http::request::Parts`).
    pub(crate) request: ApplicationRequest,
    pub(crate) framing: Framing,
    /// The client allows the connection to stay open after the answer.
    pub(crate) keep_alive: bool,
    /// The client waits for `100 Continue` before it sends the body.
    pub(crate) expects_continue: bool,
}

/// The two ends of the connection a head came over.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer {
    pub(crate) remote: SocketAddr,
    pub(crate) local: SocketAddr,
}

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes (more than zero).
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
}

/// Why a request is answered by the engine and the connection closed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

const fn refuse(status: StatusCode, message: &'static str) -> Refusal {
    Refusal { status, message }
}

const LINE_TOO_LONG: Refusal = refuse(
    StatusCode::URI_TOO_LONG,
    "the request line is longer than the server accepts (rotor.deployment.maxInitialLineLength)",
);
const TOO_MANY_FIELDS: Refusal = refuse(
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    "the request has more header fields than the server accepts (rotor.deployment.maxHeaders)",
);
const FIELDS_TOO_LARGE: Refusal = refuse(
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    "the request's header fields are larger than the server accepts (rotor.deployment.maxHeaderSize)",
);
const MALFORMED: Refusal = refuse(StatusCode::BAD_REQUEST, "the request head is malformed");

/// Where a header field's name and value lie in the head.
pub(crate) type FieldSpan = (Range<usize>, Range<usize>);

/// What a scan of a complete head found: its length, and where its parts lie.
struct Scanned {
    length: usize,
    method: Method,
    target: Range<usize>,
    version: Version,
}

/// Parses the request head at the front of `buffer`, which came from `peer`, and splits it off; `Ok(None)` while
/// it is incomplete.
/// `spans` is scratch space the connection keeps from one request to the next; `fields` is the connection's
/// spare vector of parsed fields (the last request's, given back emptied), taken for this request's.
///
/// # Errors
/// A [`Refusal`] for a head that is malformed or over a limit (as soon as the buffer proves it).
pub(crate) fn parse(
    buffer: &mut BytesMut,
    limits: &ProtocolLimits,
    spans: &mut Vec<FieldSpan>,
    fields: &mut Vec<RawField>,
    names: &mut FieldNames,
    peer: Peer,
) -> Result<Option<Head>, Refusal> {
    if buffer.is_empty() {
        return Ok(None);
    }
    // httparse's array holds one more field than `maxHeaders`, so that a head over the limit is told from one at
    // it. Uninitialised: httparse writes the fields it finds, and zeroing them all would cost more than the parse.
    let scanned = if limits.max_headers < INLINE_FIELDS {
        let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; INLINE_FIELDS];
        scan(buffer, limits, &mut fields[..=limits.max_headers], spans)?
    } else {
        let mut fields = Vec::new();
        fields.resize_with(limits.max_headers.min(MAX_FIELDS).saturating_add(1), MaybeUninit::uninit);
        scan(buffer, limits, &mut fields, spans)?
    };
    let Some(scanned) = scanned else { return Ok(None) };
    // The head is split off and handed to the call with where its fields lie: values are neither copied nor
    // made into `HeaderValue`s (with a reference count each) unless the application asks for the header map.
    let head: Bytes = buffer.split_to(scanned.length).freeze();
    let mut raw = std::mem::take(fields);
    // Exactly: the connection keeps the vector for its next request only while it has room for 32 fields or fewer.
    raw.reserve_exact(spans.len());
    let mut protocol = ProtocolFields::default();
    for (position, (name, value)) in spans.drain(..).enumerate() {
        let name = names.name(position, &head[name]).map_err(|_| MALFORMED)?;
        protocol.note(&name, &head[value.clone()]);
        raw.push((name, value));
    }
    names.end_request();
    let uri = Uri::from_maybe_shared(head.slice(scanned.target)).map_err(|_| MALFORMED)?;
    let headers = RequestHeaders::from_raw(head, raw);
    read_head(scanned.method, uri, scanned.version, headers, protocol, limits, peer).map(Some)
}

/// Parses the head at the front of `buffer` into `fields` and checks its sizes; records where the fields lie in
/// `spans`.
fn scan<'b>(
    buffer: &'b [u8],
    limits: &ProtocolLimits,
    fields: &mut [MaybeUninit<httparse::Header<'b>>],
    spans: &mut Vec<FieldSpan>,
) -> Result<Option<Scanned>, Refusal> {
    let mut parsed = httparse::Request::new(&mut []);
    let length = match parsed.parse_with_uninit_headers(buffer, fields) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return incomplete(buffer, limits).map(|()| None),
        Err(httparse::Error::TooManyHeaders) => return Err(TOO_MANY_FIELDS),
        Err(_) => return Err(MALFORMED),
    };
    // Beyond `MAX_FIELDS` a header map cannot grow (it would panic), whatever `maxHeaders` says.
    if parsed.headers.len() > limits.max_headers.min(MAX_FIELDS) {
        return Err(TOO_MANY_FIELDS);
    }
    let method = parsed.method.unwrap_or_default();
    let target = parsed.path.unwrap_or_default();
    if method.len() + 1 + target.len() + 1 + "HTTP/1.1".len() > limits.max_initial_line_length {
        return Err(LINE_TOO_LONG);
    }
    let base = buffer.as_ptr() as usize;
    // The header section as sent (its field lines and the blank line that ends it), measured as for an
    // incomplete head, so that a head is judged the same however it arrives: for `Name: value` lines that is the
    // limit's count of name, value and 4 bytes a line.
    let fields_start = parsed.headers.first().map_or(length, |field| field.name.as_ptr() as usize - base);
    if length - fields_start > limits.max_header_size.saturating_add(2) {
        return Err(FIELDS_TOO_LARGE);
    }
    let span = |part: &[u8]| {
        let start = part.as_ptr() as usize - base;
        start..start + part.len()
    };
    spans.clear();
    spans.extend(parsed.headers.iter().map(|field| (span(field.name.as_bytes()), span(field.value))));
    Ok(Some(Scanned {
        length,
        method: Method::from_bytes(method.as_bytes()).map_err(|_| MALFORMED)?,
        target: span(target.as_bytes()),
        version: if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 },
    }))
}

/// The refusal for an incomplete head that is already over a limit; `Ok(None)` if it may still fit.
fn incomplete(buffer: &[u8], limits: &ProtocolLimits) -> Result<(), Refusal> {
    let line_limit = limits.max_initial_line_length.saturating_add(2);
    let line_end = buffer.iter().take(line_limit).position(|&byte| byte == b'\n');
    match line_end {
        None if buffer.len() >= line_limit => Err(LINE_TOO_LONG),
        // Each field line counts its name, value and 4 bytes (`: ` and CRLF), as the limit does; the blank line
        // that ends the head is 2 more.
        Some(end) if buffer.len() - end - 1 > limits.max_header_size.saturating_add(2) => Err(FIELDS_TOO_LARGE),
        _ => Ok(()),
    }
}

/// What the fields the protocol gives meaning to say, noted in the one pass over the parsed fields (standard names
/// compare as a tag, so this costs no lookup).
#[derive(Debug, Default)]
struct ProtocolFields {
    hosts: usize,
    /// Every `Content-Length` value agreed so far (`Err` once one is malformed or differs).
    content_length: Option<Result<u64, Refusal>>,
    /// `Transfer-Encoding` was present: how many `chunked` codings, and whether one came after another coding,
    /// or any other coding was named, or a coding was empty.
    transfer_encoding: bool,
    chunked: usize,
    other_codings: usize,
    malformed_codings: bool,
    close: bool,
    keep_alive: bool,
    /// `Expect`: whether it was `100-continue`.
    expect: Option<bool>,
}

impl ProtocolFields {
    fn note(&mut self, name: &HeaderName, value: &[u8]) {
        if *name == HOST {
            self.hosts += 1;
        } else if *name == CONTENT_LENGTH {
            self.note_length(value);
        } else if *name == TRANSFER_ENCODING {
            self.transfer_encoding = true;
            for coding in value.split(|&byte| byte == b',') {
                let coding = coding.trim_ascii();
                if coding.eq_ignore_ascii_case(b"chunked") {
                    self.chunked += 1;
                } else if coding.is_empty() || self.chunked > 0 {
                    // An empty coding, or one applied after chunked.
                    self.malformed_codings = true;
                } else {
                    self.other_codings += 1;
                }
            }
        } else if *name == CONNECTION {
            for token in value.split(|&byte| byte == b',') {
                let token = token.trim_ascii();
                self.close |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if *name == EXPECT {
            let continues = value.eq_ignore_ascii_case(b"100-continue");
            self.expect = Some(self.expect.unwrap_or(true) && continues);
        }
    }

    fn note_length(&mut self, value: &[u8]) {
        for item in value.split(|&byte| byte == b',') {
            let parsed = parse_length(item.trim_ascii()).ok_or(refuse(
                StatusCode::BAD_REQUEST,
                "the request's Content-Length is not a decimal number of bytes",
            ));
            self.content_length = Some(match (self.content_length.take(), parsed) {
                (Some(Err(refusal)), _) | (_, Err(refusal)) => Err(refusal),
                (Some(Ok(seen)), Ok(length)) if seen != length => {
                    Err(refuse(StatusCode::BAD_REQUEST, "the request carries differing Content-Length values"))
                }
                (_, Ok(length)) => Ok(length),
            });
        }
    }

    /// How the body is delimited (RFC 9112 §6.3), refusing what could be read two ways.
    fn framing(&mut self, version: Version) -> Result<Framing, Refusal> {
        if self.transfer_encoding {
            if version == Version::HTTP_10 {
                return Err(refuse(StatusCode::BAD_REQUEST, "Transfer-Encoding is not allowed in an HTTP/1.0 request"));
            }
            if self.content_length.is_some() {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "a request must not carry both Transfer-Encoding and Content-Length",
                ));
            }
            if self.malformed_codings {
                return Err(refuse(StatusCode::BAD_REQUEST, "the request's Transfer-Encoding is malformed"));
            }
            if self.other_codings > 0 {
                return Err(refuse(
                    StatusCode::NOT_IMPLEMENTED,
                    "the only transfer coding the server reads is chunked (a request may not be compressed this way)",
                ));
            }
            if self.chunked != 1 {
                return Err(refuse(StatusCode::BAD_REQUEST, "the request's Transfer-Encoding is malformed"));
            }
            return Ok(Framing::Chunked);
        }
        Ok(match self.content_length.take().transpose()? {
            None | Some(0) => Framing::Empty,
            Some(length) => Framing::Length(length),
        })
    }
}

/// Checks the fields the protocol gives meaning to and builds the head.
fn read_head(
    method: Method,
    uri: Uri,
    version: Version,
    headers: RequestHeaders,
    mut fields: ProtocolFields,
    limits: &ProtocolLimits,
    peer: Peer,
) -> Result<Head, Refusal> {
    if version == Version::HTTP_11 && fields.hosts != 1 {
        return Err(refuse(StatusCode::BAD_REQUEST, "an HTTP/1.1 request must carry exactly one Host header"));
    }
    let framing = fields.framing(version)?;
    if let Framing::Length(length) = framing {
        if length > limits.max_body_size {
            // Refused before the body is read, so no `100 Continue` is ever sent for it.
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than the server accepts (rotor.deployment.maxBodySize)",
            ));
        }
    }
    // HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    let keep_alive = !fields.close && (version == Version::HTTP_11 || fields.keep_alive);
    let expects_continue = match fields.expect {
        None => false,
        Some(true) => version == Version::HTTP_11 && framing != Framing::Empty,
        Some(false) => {
            return Err(refuse(
                StatusCode::EXPECTATION_FAILED,
                "the only expectation the server meets is 100-continue",
            ));
        }
    };
    // The engine writes `Date` on every answer that has none, and the head from the answer's parts.
    let request = ApplicationRequest::from_head(method, uri, version, headers, Some(peer.remote), Some(peer.local))
        .with_engine_date(true)
        .with_engine_parts(true);
    Ok(Head { request, framing, keep_alive, expects_continue })
}

/// `1*DIGIT` as a `u64`; `None` for anything else (a sign, spaces inside, an overflow).
fn parse_length(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |length, &digit| {
        if digit.is_ascii_digit() { length.checked_mul(10)?.checked_add(u64::from(digit - b'0')) } else { None }
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const PEER: Peer = Peer {
        remote: SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000),
        local: SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080),
    };

    fn parse_all(raw: &[u8]) -> (Result<Option<Head>, Refusal>, usize) {
        let mut buffer = BytesMut::from(raw);
        let limits = ProtocolLimits::default();
        let result = parse(&mut buffer, &limits, &mut Vec::new(), &mut Vec::new(), &mut FieldNames::default(), PEER);
        (result, buffer.len())
    }

    fn head(raw: &[u8]) -> Head {
        parse_all(raw).0.expect("a valid head").expect("a complete head")
    }

    fn refusal(raw: &[u8]) -> StatusCode {
        parse_all(raw).0.expect_err("a refusal").status
    }

    #[test]
    fn a_head_is_split_off_and_what_follows_stays() {
        let (result, rest) = parse_all(b"GET /a?b=c HTTP/1.1\r\nHost: t\r\nX-One: 1\r\n\r\nGET /next");
        let head = result.unwrap().unwrap();
        assert_eq!(*head.request.method(), Method::GET);
        assert_eq!(*head.request.uri(), "/a?b=c");
        assert_eq!(head.request.headers()["x-one"], "1");
        assert_eq!((head.framing, head.keep_alive, head.expects_continue), (Framing::Empty, true, false));
        assert_eq!(rest, b"GET /next".len());
    }

    #[test]
    fn an_incomplete_head_waits() {
        assert!(parse_all(b"GET / HTTP/1.1\r\nHost: t\r\n").0.unwrap().is_none());
    }

    #[test]
    fn framing_is_read_strictly() {
        assert_eq!(head(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n").framing, Framing::Length(5));
        assert_eq!(head(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\n").framing, Framing::Length(5));
        assert_eq!(head(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").framing, Framing::Empty);
        assert_eq!(head(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n").framing, Framing::Chunked);
        let bad = StatusCode::BAD_REQUEST;
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), bad);
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"), bad);
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1 2\r\n\r\n"), bad);
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n"), bad);
        assert_eq!(
            refusal(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            bad
        );
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), bad);
        assert_eq!(refusal(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), bad);
        assert_eq!(refusal(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), bad);
        assert_eq!(
            refusal(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            StatusCode::NOT_IMPLEMENTED
        );
    }

    #[test]
    fn limits_are_applied() {
        let limits =
            ProtocolLimits { max_initial_line_length: 20, max_headers: 2, max_header_size: 40, ..Default::default() };
        let check = |raw: &[u8]| {
            parse(&mut BytesMut::from(raw), &limits, &mut Vec::new(), &mut Vec::new(), &mut FieldNames::default(), PEER)
                .map(|head| head.is_some())
        };
        assert_eq!(check(b"GET /0123456789012 HTTP/1.1\r\nHost: t\r\n\r\n"), Err(LINE_TOO_LONG));
        // Incomplete, but already over the line limit.
        assert_eq!(check(b"GET /01234567890123456789"), Err(LINE_TOO_LONG));
        assert_eq!(check(b"GET / HTTP/1.1\r\nHost: t\r\nA: 1\r\nB: 2\r\n\r\n"), Err(TOO_MANY_FIELDS));
        assert_eq!(
            check(b"GET / HTTP/1.1\r\nHost: t\r\nA: 0123456789012345678901234567890\r\n\r\n"),
            Err(FIELDS_TOO_LARGE)
        );
        assert_eq!(
            check(b"GET / HTTP/1.1\r\nHost: t\r\nA: 01234567890123456789012345678901234567"),
            Err(FIELDS_TOO_LARGE)
        );
        assert_eq!(check(b"GET / HTTP/1.1\r\nHost: t\r\nA: 1\r\n\r\n"), Ok(true));
        let many = ProtocolLimits { max_headers: 200, ..Default::default() };
        let mut raw = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
        for index in 0..150 {
            raw.extend_from_slice(format!("X-{index}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        let mut names = FieldNames::default();
        let head = parse(&mut BytesMut::from(&raw[..]), &many, &mut Vec::new(), &mut Vec::new(), &mut names, PEER)
            .unwrap()
            .unwrap();
        assert_eq!(head.request.headers().len(), 151);
    }

    #[test]
    fn host_connection_and_expect() {
        assert_eq!(refusal(b"GET / HTTP/1.1\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(refusal(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert!(head(b"GET / HTTP/1.0\r\n\r\n").request.version() == Version::HTTP_10);
        assert!(!head(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(!head(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade, close\r\n\r\n").keep_alive);
        let continues = head(b"PUT / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        assert!(continues.expects_continue);
        assert!(!head(b"GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n").expects_continue);
        assert_eq!(refusal(b"GET / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n"), StatusCode::EXPECTATION_FAILED);
    }

    #[test]
    fn malformed_heads_are_refused() {
        for raw in [
            &b"GARBAGE\r\n\r\n"[..],
            b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
            b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n",
        ] {
            assert_eq!(refusal(raw), StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn every_parsed_value_is_one_header_value_accepts() {
        // Each byte value in the middle of a short value, and of a long one (httparse scans a long value 16 or 32
        // bytes at a time with SSE4.2 or AVX2 where the CPU has them): a head httparse takes gives values equal to
        // what `HeaderValue::from_bytes` (the checked constructor) makes of the same bytes, or is refused. The call
        // gets the values where they lie and its map is built from them on first use: no value httparse takes is
        // left out of the map, and a lookup of the name without the map finds the same bytes.
        let long = |byte: u8| [vec![b'a'; 64], vec![byte], vec![b'z'; 64]].concat();
        let values = (0..=255u8).flat_map(|byte| [vec![b'a', byte, b'z'], long(byte)]);
        let mut accepted = 0;
        for value in values {
            let mut raw = b"GET / HTTP/1.1\r\nHost: t\r\nX-Value: ".to_vec();
            raw.extend_from_slice(&value);
            raw.extend_from_slice(b"\r\n\r\n");
            let Ok(Some(head)) = parse_all(&raw).0 else { continue };
            accepted += 1;
            let name = HeaderName::from_static("x-value");
            let unbuilt = head.request.header_values(&name).map(<[u8]>::to_vec).collect::<Vec<_>>();
            assert!(!head.request.request_headers().is_map_built());
            let parsed = &head.request.headers()["x-value"];
            assert_eq!(unbuilt, [parsed.as_bytes()], "{value:?}");
            let checked = HeaderValue::from_bytes(parsed.as_bytes()).expect("a value HeaderValue accepts");
            assert_eq!(*parsed, checked);
            assert!(!parsed.as_bytes().iter().any(|&b| b == b'\r' || b == b'\n' || b == 0), "{value:?}");
            if parsed.as_bytes().is_ascii() {
                assert!(parsed.to_str().is_ok(), "an ASCII value reads as text: {value:?}");
            }
        }
        // HTAB, space, visible ASCII and obs-text in the middle of a value: 1 + 1 + 94 + 128, short and long.
        assert_eq!(accepted, 2 * 224);
    }
}
