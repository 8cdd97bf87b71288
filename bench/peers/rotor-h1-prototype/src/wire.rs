//! The wire side of the prototype: the connection loop, the request head parser and the response encoder, shared
//! by the engine (`engine.rs`, Rotor's calls) and `h1-bare-server` (a hand-written handler, no framework), so
//! that the two differ only in what answers a request.
//!
//! Every request that arrived in one read is answered before the answers are written in one write
//! (pipelining), as hyper does with its pipeline flush on. What it leaves out, because the experiment does not
//! need it: request bodies (a request that declares one is answered `501` and the connection closed), the
//! request read timeout (hyper arms its header-read timer for every request; this arms one idle timer per read,
//! as a real engine must too), the protocol limits of `rotor.deployment` (fixed limits of 100 fields and a
//! 64 KiB head instead), `Connection` values other than a whole `close` or `keep-alive`, and answering an
//! HTTP/1.0 request in HTTP/1.0 (every answer says HTTP/1.1). The load comparison's clients send neither.

use std::future::Future;
use std::mem::MaybeUninit;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::date;

/// The most header fields a request may have (hyper's default), and the largest request head.
const MAX_HEADERS: usize = 100;
const MAX_HEAD: usize = 64 * 1024;
/// How long a connection may wait for its next bytes (Rotor's default idle timeout).
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);

/// What answers the requests of a connection.
pub(crate) trait Responder {
    /// The response head and body for a request head; `None` answers 500.
    fn respond(&mut self, head: Request<()>) -> impl Future<Output = Option<(http::response::Parts, Bytes)>>;
}

/// One connection: parse every request the buffer holds, answer each, append its response to the write buffer;
/// write that; read more.
pub(crate) async fn serve(mut stream: TcpStream, mut responder: impl Responder) {
    let _ = stream.set_nodelay(true);
    let mut read = BytesMut::with_capacity(8192);
    let mut write = Vec::with_capacity(8192);
    // Where the header fields of the request being parsed lie in the read buffer; kept across requests.
    let mut spans = Vec::with_capacity(16);
    loop {
        let mut open = true;
        while open {
            let head = match parse(&mut read, &mut spans) {
                Ok(Some(head)) => head,
                Ok(None) => break,
                Err(status) => {
                    encode_status(status, &mut write);
                    let _ = stream.write_all(&write).await;
                    return;
                }
            };
            open = keeps_alive(&head);
            let head_only = head.method() == Method::HEAD;
            match responder.respond(head).await {
                Some((parts, body)) => encode(&parts, &body, head_only, &mut write),
                None => {
                    // Answered with `Connection: close`: the requests after it are not answered.
                    encode_status(StatusCode::INTERNAL_SERVER_ERROR, &mut write);
                    open = false;
                }
            }
        }
        if !write.is_empty() {
            if stream.write_all(&write).await.is_err() {
                return;
            }
            write.clear();
        }
        if !open {
            return;
        }
        if read.capacity() - read.len() < 1024 {
            read.reserve(8192);
        }
        match tokio::time::timeout(IDLE_TIMEOUT, stream.read_buf(&mut read)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// Where a request's header fields lie in the read buffer: (name start, end), (value start, end).
type Spans = Vec<((usize, usize), (usize, usize))>;

/// The next request head in `read`, taken out of it; `None` until one is complete.
fn parse(read: &mut BytesMut, spans: &mut Spans) -> std::result::Result<Option<Request<()>>, StatusCode> {
    // Uninitialised: httparse writes the fields it finds; zeroing 100 of them would cost more than the parse.
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let length = match parsed.parse_with_uninit_headers(read, &mut fields) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if read.len() > MAX_HEAD => {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(_) => return Err(StatusCode::BAD_REQUEST),
    };
    let base = read.as_ptr() as usize;
    let range = |part: &[u8]| {
        let start = part.as_ptr() as usize - base;
        (start, start + part.len())
    };
    let method =
        Method::from_bytes(parsed.method.unwrap_or_default().as_bytes()).map_err(|_| StatusCode::BAD_REQUEST)?;
    let target = range(parsed.path.unwrap_or_default().as_bytes());
    let version = if parsed.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    spans.clear();
    spans.extend(parsed.headers.iter().map(|field| (range(field.name.as_bytes()), range(field.value))));
    let count = spans.len();
    let head: Bytes = read.split_to(length).freeze();
    let mut headers = HeaderMap::with_capacity(count);
    for &((name_start, name_end), (value_start, value_end)) in spans.iter() {
        let name = HeaderName::from_bytes(&head[name_start..name_end]).map_err(|_| StatusCode::BAD_REQUEST)?;
        let value =
            HeaderValue::from_maybe_shared(head.slice(value_start..value_end)).map_err(|_| StatusCode::BAD_REQUEST)?;
        headers.append(name, value);
    }
    if headers.contains_key(TRANSFER_ENCODING)
        || headers.get(CONTENT_LENGTH).is_some_and(|length| length.as_bytes() != b"0")
    {
        return Err(StatusCode::NOT_IMPLEMENTED);
    }
    let uri = Uri::from_maybe_shared(head.slice(target.0..target.1)).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some(request))
}

fn keeps_alive(head: &Request<()>) -> bool {
    let connection = head.headers().get(CONNECTION).map(HeaderValue::as_bytes);
    match head.version() {
        Version::HTTP_10 => connection.is_some_and(|value| value.eq_ignore_ascii_case(b"keep-alive")),
        _ => !connection.is_some_and(|value| value.eq_ignore_ascii_case(b"close")),
    }
}

/// Appends a response to `write`: status line, headers, `Date` unless set, `Content-Length`, body.
#[inline(never)]
fn encode(parts: &http::response::Parts, body: &[u8], head_only: bool, write: &mut Vec<u8>) {
    let status = parts.status;
    if status == StatusCode::OK {
        write.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        let reason = status.canonical_reason().unwrap_or("").as_bytes();
        put(write, &[b"HTTP/1.1 ", status.as_str().as_bytes(), b" ", reason, b"\r\n"]);
    }
    for (name, value) in &parts.headers {
        put(write, &[name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"]);
    }
    if !parts.headers.contains_key(DATE) {
        date::extend(write);
    }
    let bodyless = status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    if !bodyless && !parts.headers.contains_key(CONTENT_LENGTH) {
        put(write, &[b"content-length: ", itoa::Buffer::new().format(body.len()).as_bytes(), b"\r\n\r\n"]);
    } else {
        write.extend_from_slice(b"\r\n");
    }
    if !head_only && !bodyless {
        write.extend_from_slice(body);
    }
}

fn put(write: &mut Vec<u8>, pieces: &[&[u8]]) {
    for piece in pieces {
        write.extend_from_slice(piece);
    }
}

#[cold]
fn encode_status(status: StatusCode, write: &mut Vec<u8>) {
    write.extend_from_slice(b"HTTP/1.1 ");
    write.extend_from_slice(status.as_str().as_bytes());
    write.extend_from_slice(b" \r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
}
