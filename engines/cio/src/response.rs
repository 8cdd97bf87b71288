//! Writing an answer: the status line, the headers, `Date` from the per-thread cache, the framing the engine
//! chooses, and the body.
//!
//! The engine frames every body itself (RFC 9112 §6): `Content-Length` when the length is known before the body
//! is written (whole bodies, and streams that say so), the chunked coding for other streams on HTTP/1.1, and the
//! end of the connection on HTTP/1.0. `HEAD` answers and 1xx, 204 and 304 carry no body. A `Transfer-Encoding`
//! or `Connection` field set by the application is replaced by the engine's own.

use std::future::poll_fn;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING};
use http::{HeaderName, HeaderValue, StatusCode, Version};
use http_body::Body as _;
use rotor::call::{Body, EngineResponse};

use crate::date;
use crate::head::Refusal;
use crate::outbound::{FLUSH_AT, Outbound};

/// A body at least this large is written from its own buffer instead of being copied into the connection's.
const WRITE_THROUGH: usize = 16 * 1024;

/// How an answer's body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyFraming {
    /// No body follows the head.
    None,
    Length(u64),
    Chunked,
    /// The body ends with the connection (HTTP/1.0 with a stream of unknown length).
    Close,
}

/// What the connection knows of the request an answer is for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Answering {
    pub(crate) version: Version,
    /// A `HEAD` request: the head as for `GET`, no body.
    pub(crate) head_only: bool,
    /// The connection may carry another request after this answer.
    pub(crate) keep_alive: bool,
}

/// The `Content-Length` field an answer's head carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthField {
    /// The engine's, with this length.
    Engine(u64),
    /// The application's, as it set it (a head that no body follows: the length a `GET` would get).
    Application,
    /// None: an application's is dropped (the engine frames the body another way, or none is possible).
    Omitted,
}

/// Writes `response` (buffered: the caller flushes); returns whether the connection may carry another request.
///
/// # Errors
/// If the socket fails; a body that fails midway ends the connection instead (the client sees a cut-off answer,
/// never a wrong one).
pub(crate) async fn write(out: &mut Outbound, response: &mut EngineResponse, answering: Answering) -> io::Result<bool> {
    let status = response.status();
    let exact = response.body().exact_len();
    // The application's `Content-Length` is looked up only where it decides something: the framing of a stream of
    // unknown length, and a `HEAD` answer (which keeps the field as set, even one that is not a number).
    let set_length = if exact.is_none() || answering.head_only { response.get(&CONTENT_LENGTH) } else { None };
    let frame = Frame::plan(status, exact, set_length, answering);
    let chunked = frame.framing == BodyFraming::Chunked;
    let keep_alive = encode_head(
        &mut out.buffer,
        status,
        response.fields(),
        frame.length,
        chunked,
        frame.keep_alive,
        answering.version,
    );
    match frame.framing {
        BodyFraming::None => Ok(keep_alive),
        _ => write_body(out, response.body_mut(), frame.framing).await.map(|complete| complete && keep_alive),
    }
}

/// How an answer is framed: its body, its `Content-Length` field, and whether the connection may stay open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Frame {
    framing: BodyFraming,
    length: LengthField,
    keep_alive: bool,
}

impl Frame {
    /// The framing of an answer with `status`, a body of `exact` length (if known) and the application's
    /// `Content-Length` field `set_length` (looked up where `exact` is unknown or the request is `HEAD`).
    fn plan(status: StatusCode, exact: Option<u64>, set_length: Option<&HeaderValue>, answering: Answering) -> Frame {
        let declared = set_length.and_then(|value| value.to_str().ok()?.trim().parse().ok());
        let mut keep_alive = answering.keep_alive;
        let bodyless =
            status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
        let framing = if bodyless || answering.head_only {
            BodyFraming::None
        } else if let Some(length) = exact.or(declared) {
            BodyFraming::Length(length)
        } else if answering.version == Version::HTTP_11 {
            BodyFraming::Chunked
        } else {
            keep_alive = false;
            BodyFraming::Close
        };
        // `Content-Length` stays as the application set it where no body follows the head (HEAD, 304: the length
        // of what a GET would get; for HEAD the body's own length when the application set none), goes where no
        // body is possible (1xx, 204), and is the engine's own otherwise.
        let length = match framing {
            BodyFraming::Length(length) => LengthField::Engine(length),
            BodyFraming::None if !status.is_informational() && status != StatusCode::NO_CONTENT => {
                match exact.filter(|_| answering.head_only && !bodyless && set_length.is_none()) {
                    Some(length) => LengthField::Engine(length),
                    None => LengthField::Application,
                }
            }
            _ => LengthField::Omitted,
        };
        Frame { framing, length, keep_alive }
    }
}

/// Appends the status line and the fields; returns whether the connection stays open (not if the application's
/// `Connection` field says `close`). One pass over the fields: no lookups.
fn encode_head<'f>(
    out: &mut Vec<u8>,
    status: StatusCode,
    fields: impl Iterator<Item = (&'f HeaderName, &'f HeaderValue)>,
    length: LengthField,
    chunked: bool,
    keep_alive: bool,
    version: Version,
) -> bool {
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        let reason = status.canonical_reason().unwrap_or("");
        put(out, &[b"HTTP/1.1 ", status.as_str().as_bytes(), b" ", reason.as_bytes(), b"\r\n"]);
    }
    let mut close = false;
    let mut dated = false;
    // `for_each`, not `for`: the response's fields are walked in one pass (`Fields::fold`).
    fields.for_each(|(name, value)| {
        if name == CONNECTION {
            close |= has_close(value);
        } else if name != TRANSFER_ENCODING && (name != CONTENT_LENGTH || length == LengthField::Application) {
            dated |= name == DATE;
            put(out, &[name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"]);
        }
    });
    if !dated {
        date::append(out);
    }
    let keep_alive = keep_alive && !close;
    if let LengthField::Engine(length) = length {
        put(out, &[b"content-length: ", itoa::Buffer::new().format(length).as_bytes(), b"\r\n"]);
    }
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    keep_alive
}

fn put(out: &mut Vec<u8>, pieces: &[&[u8]]) {
    for piece in pieces {
        out.extend_from_slice(piece);
    }
}

/// Writes the body as `framing` says; `Ok(false)` if it failed or did not match its declared length (the
/// connection must close).
async fn write_body(out: &mut Outbound, body: &mut Body, framing: BodyFraming) -> io::Result<bool> {
    if let Some(bytes) = body.as_bytes() {
        // A whole body: its length is exact, so the framing is `Length`. A small one is copied into the buffer
        // right here, without a handle of its own: cloning a `Bytes` made from a `Vec` (a serialized JSON body)
        // allocates its shared header.
        if bytes.len() < WRITE_THROUGH {
            out.buffer.extend_from_slice(bytes);
            return Ok(true);
        }
        // Written from its own buffer across awaits, where the body (not `Sync`) cannot stay borrowed.
        let bytes = bytes.clone();
        out.write_through(&bytes).await?;
        return Ok(true);
    }
    let mut written = 0u64;
    loop {
        // Whatever is buffered goes out before the body is awaited, so that a slow stream delays nothing.
        let frame = match poll_fn(|cx| Poll::Ready(Pin::new(&mut *body).poll_frame(cx))).await {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                out.flush().await?;
                poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
            }
        };
        let data = match frame {
            None => break,
            Some(Err(error)) => {
                tracing::debug!(target: "rotor::engine", %error, "a response body failed; closing the connection");
                return Ok(false);
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
        };
        written += data.len() as u64;
        match framing {
            BodyFraming::Length(length) if written > length => {
                tracing::warn!(
                    target: "rotor::engine",
                    "a response body is longer than its Content-Length of {length}; closing the connection"
                );
                return Ok(false);
            }
            BodyFraming::Chunked => {
                write!(out.buffer, "{:x}\r\n", data.len())?;
                put_data(out, &data).await?;
                out.buffer.extend_from_slice(b"\r\n");
            }
            _ => put_data(out, &data).await?,
        }
        if out.buffer.len() >= FLUSH_AT {
            out.flush().await?;
        }
    }
    match framing {
        BodyFraming::Chunked => out.buffer.extend_from_slice(b"0\r\n\r\n"),
        BodyFraming::Length(length) if written != length => {
            tracing::warn!(
                target: "rotor::engine",
                "a response body ended after {written} of its {length} bytes; closing the connection"
            );
            return Ok(false);
        }
        _ => {}
    }
    Ok(true)
}

/// Appends `data` to the buffer, or writes it through when it is large.
async fn put_data(out: &mut Outbound, data: &Bytes) -> io::Result<()> {
    if data.len() >= WRITE_THROUGH {
        out.write_through(data).await
    } else {
        out.buffer.extend_from_slice(data);
        Ok(())
    }
}

/// True if a `Connection` value carries the `close` token.
fn has_close(value: &http::HeaderValue) -> bool {
    value.as_bytes().split(|&byte| byte == b',').any(|item| item.trim_ascii().eq_ignore_ascii_case(b"close"))
}

/// Appends the engine's answer to a request it refuses; the connection closes after it.
#[cold]
pub(crate) fn refusal(out: &mut Vec<u8>, refusal: &Refusal) {
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    let message = refusal.message.as_bytes();
    let fields = std::iter::once((&CONTENT_TYPE, &content_type));
    let length = LengthField::Engine(message.len() as u64);
    encode_head(out, refusal.status, fields, length, false, false, Version::HTTP_11);
    out.extend_from_slice(message);
}

/// Appends a bare answer with `status` and no body (a call that ended without one); the connection closes after.
#[cold]
pub(crate) fn bare(out: &mut Vec<u8>, status: StatusCode) {
    encode_head(out, status, std::iter::empty(), LengthField::Engine(0), false, false, Version::HTTP_11);
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_11: Answering = Answering { version: Version::HTTP_11, head_only: false, keep_alive: true };
    const HEAD_11: Answering = Answering { version: Version::HTTP_11, head_only: true, keep_alive: true };
    const GET_10: Answering = Answering { version: Version::HTTP_10, head_only: false, keep_alive: true };

    fn plan(status: u16, exact: Option<u64>, set: Option<&'static str>, answering: Answering) -> Frame {
        let set = set.map(HeaderValue::from_static);
        Frame::plan(StatusCode::from_u16(status).unwrap(), exact, set.as_ref(), answering)
    }

    fn frame(framing: BodyFraming, length: LengthField, keep_alive: bool) -> Frame {
        Frame { framing, length, keep_alive }
    }

    #[test]
    fn whole_bodies_get_the_engines_length_and_streams_are_chunked_or_close_delimited() {
        use BodyFraming::{Chunked, Close, Length};
        use LengthField::{Engine, Omitted};
        assert_eq!(plan(200, Some(5), None, GET_11), frame(Length(5), Engine(5), true));
        // The body's own length wins over a field the application set.
        assert_eq!(plan(200, Some(5), Some("9"), GET_11), frame(Length(5), Engine(5), true));
        // A stream: the application's length if it is a number, else chunked (1.1) or the end of the connection.
        assert_eq!(plan(200, None, Some("7"), GET_11), frame(Length(7), Engine(7), true));
        assert_eq!(plan(200, None, Some("seven"), GET_11), frame(Chunked, Omitted, true));
        assert_eq!(plan(200, None, None, GET_11), frame(Chunked, Omitted, true));
        assert_eq!(plan(200, None, None, GET_10), frame(Close, Omitted, false));
    }

    #[test]
    fn heads_without_a_body_keep_the_length_a_get_would_get() {
        use LengthField::{Application, Engine, Omitted};
        // HEAD: the body's length when the application set none, else the application's field as it is.
        assert_eq!(plan(200, Some(3), None, HEAD_11), frame(BodyFraming::None, Engine(3), true));
        assert_eq!(plan(200, Some(3), Some("12"), HEAD_11), frame(BodyFraming::None, Application, true));
        assert_eq!(plan(200, Some(3), Some("abc"), HEAD_11), frame(BodyFraming::None, Application, true));
        assert_eq!(plan(200, None, None, HEAD_11), frame(BodyFraming::None, Application, true));
        // 304 keeps the application's; 204 and 1xx have none.
        assert_eq!(plan(304, Some(0), Some("12"), GET_11), frame(BodyFraming::None, Application, true));
        assert_eq!(plan(304, Some(0), None, HEAD_11), frame(BodyFraming::None, Application, true));
        assert_eq!(plan(204, Some(0), Some("12"), GET_11), frame(BodyFraming::None, Omitted, true));
        assert_eq!(plan(204, Some(0), None, HEAD_11), frame(BodyFraming::None, Omitted, true));
    }

    #[test]
    fn the_head_writes_the_length_the_plan_chose_and_drops_the_applications_otherwise() {
        let length = HeaderValue::from_static("12");
        let fields = [(&CONTENT_LENGTH, &length)];
        let head = |length_field| {
            let mut out = Vec::new();
            encode_head(&mut out, StatusCode::OK, fields.into_iter(), length_field, false, true, Version::HTTP_11);
            String::from_utf8(out).unwrap()
        };
        let kept = head(LengthField::Application);
        assert_eq!(kept.matches("content-length").count(), 1, "{kept}");
        assert!(kept.contains("content-length: 12\r\n"), "{kept}");
        let engine = head(LengthField::Engine(3));
        assert_eq!(engine.matches("content-length").count(), 1, "{engine}");
        assert!(engine.contains("content-length: 3\r\n"), "{engine}");
        assert!(!head(LengthField::Omitted).contains("content-length"));
    }
}
