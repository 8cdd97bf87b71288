//! The request body as the call sees it: read from the connection as the call asks for it, never ahead.
//!
//! The connection lends its read side ([`Inbound`]) to the body for the call and gets it back through a
//! oneshot channel when the body ends or is dropped. A body dropped unread comes back unfinished: the connection
//! reads and discards a little of it, or closes. A body that is kept after the call (moved into a task that
//! outlives it) never comes back, and the connection closes after its answer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body::{Frame, SizeHint};
use rotor::Error;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use crate::chunked::{ChunkedDecoder, Decoded};
use crate::head::Framing;
use crate::inbound::Inbound;

/// The longest chunk-size line (size and extensions) accepted, and the most trailer bytes.
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILER: usize = 16 * 1024;

/// What `Expect: 100-continue` asks for: the interim answer, sent when the call first reads the body, or by the
/// connection ahead of the final answer when the body may still be read after it.
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
/// Who sends `100 Continue`: nobody yet, the connection, or the body, which records how many of its bytes are
/// out (`CONTINUE_BY_BODY + written`), so that a connection taking over writes exactly the rest.
pub(crate) const CONTINUE_OWED: u8 = 0;
const CONTINUE_BY_CONNECTION: u8 = 1;
const CONTINUE_BY_BODY: u8 = 2;

/// What of `100 Continue` the connection writes ahead of its answer, taking the job over from the body: the rest
/// of one the body began, the whole of one nobody sent if `send_owed` (the body may still be read after the
/// answer began), else nothing. The body sends nothing more after this.
pub(crate) fn take_over_continue(sender: &AtomicU8, send_owed: bool) -> &'static [u8] {
    let state = sender.swap(CONTINUE_BY_CONNECTION, Ordering::AcqRel);
    match state {
        CONTINUE_OWED if send_owed => CONTINUE,
        CONTINUE_OWED | CONTINUE_BY_CONNECTION => &[],
        by_body => CONTINUE.get(usize::from(by_body - CONTINUE_BY_BODY)..).unwrap_or_default(),
    }
}

/// The body's framing and how far it has been read.
#[derive(Debug)]
enum Remaining {
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// Reads one request body off the connection's read side.
#[derive(Debug)]
pub(crate) struct BodyReader {
    inbound: Inbound,
    remaining: Remaining,
    /// Reading failed (malformed chunks, the peer went away): the connection cannot be reused.
    failed: bool,
}

impl BodyReader {
    /// A reader for a body framed as `framing` (not [`Framing::Empty`]).
    pub(crate) fn new(inbound: Inbound, framing: Framing) -> BodyReader {
        let remaining = match framing {
            Framing::Empty => Remaining::Length(0),
            Framing::Length(length) => Remaining::Length(length),
            Framing::Chunked => Remaining::Chunked(ChunkedDecoder::new(MAX_CHUNK_LINE, MAX_TRAILER)),
        };
        BodyReader { inbound, remaining, failed: false }
    }

    /// True once the whole body has been read.
    pub(crate) fn is_complete(&self) -> bool {
        !self.failed
            && match &self.remaining {
                Remaining::Length(remaining) => *remaining == 0,
                Remaining::Chunked(decoder) => decoder.is_done(),
            }
    }

    /// The connection's read side, once the whole body has been read; `None` if it cannot be reused.
    pub(crate) fn into_inbound(self) -> Option<Inbound> {
        self.is_complete().then_some(self.inbound)
    }

    /// True if reading the body failed (malformed, over the limit, too slow, the client went away).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }

    /// The connection's read side with the body unfinished, for a lingering close.
    pub(crate) fn into_unfinished(self) -> Inbound {
        self.inbound
    }

    /// The next bytes of the body; `None` at its end.
    pub(crate) fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        if self.failed {
            return Poll::Ready(Some(Err(Error::bad_request("the request body could not be read"))));
        }
        loop {
            let buffer = &mut self.inbound.buffer;
            match &mut self.remaining {
                Remaining::Length(0) => return Poll::Ready(None),
                Remaining::Length(remaining) => {
                    if !buffer.is_empty() {
                        let take = usize::try_from(*remaining).map_or(buffer.len(), |left| left.min(buffer.len()));
                        *remaining -= take as u64;
                        return Poll::Ready(Some(Ok(buffer.split_to(take).freeze())));
                    }
                }
                Remaining::Chunked(decoder) => match decoder.decode(buffer) {
                    Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(data))),
                    Ok(Decoded::End) => return Poll::Ready(None),
                    Ok(Decoded::NeedMore) => {}
                    Err(error) => {
                        self.failed = true;
                        return Poll::Ready(Some(Err(Error::bad_request(format!(
                            "the request body's chunked encoding is malformed: {error}"
                        )))));
                    }
                },
            }
            let read = ready!(self.inbound.poll_fill(cx));
            match read {
                Ok(0) => {
                    self.failed = true;
                    return Poll::Ready(Some(Err(Error::bad_request(
                        "the client closed the connection before the request body was complete",
                    ))));
                }
                Ok(_) => {}
                Err(error) => {
                    self.failed = true;
                    return Poll::Ready(Some(Err(
                        Error::bad_request("reading the request body failed").with_source(error)
                    )));
                }
            }
        }
    }

    /// The bytes of a `Content-Length` body still to read; `None` for a chunked one.
    pub(crate) fn remaining_length(&self) -> Option<u64> {
        match &self.remaining {
            Remaining::Length(remaining) => Some(*remaining),
            Remaining::Chunked(_) => None,
        }
    }

    /// Reads and discards the rest of the body, at most `limit` bytes of it within `timeout`: the connection's
    /// read side, ready for the next request if the body ended within them, unfinished (for a lingering close)
    /// if not.
    pub(crate) async fn drain(mut self, limit: u64, timeout: Duration) -> Result<Inbound, Inbound> {
        let discard = async {
            let mut discarded = 0u64;
            while let Some(data) = std::future::poll_fn(|cx| self.poll_data(cx)).await {
                match data {
                    Ok(data) => discarded += data.len() as u64,
                    Err(_) => return,
                }
                if discarded > limit {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, discard).await;
        if self.is_complete() { Ok(self.inbound) } else { Err(self.inbound) }
    }

    /// Writes `bytes[*written..]` straight to the socket (the connection's write half is idle while the call
    /// reads its body).
    fn poll_write_interim(&mut self, bytes: &[u8], written: &mut usize, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = self.inbound.stream.as_ref();
        while *written < bytes.len() {
            ready!(stream.poll_write_ready(cx))?;
            match stream.try_write(&bytes[*written..]) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(count) => *written += count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// `100 Continue` owed to a client that waits for it: the body and the connection agree on who sends it through
/// one atomic (the body on its first read, or the connection ahead of the final answer; see
/// [`take_over_continue`]).
#[derive(Debug)]
pub(crate) struct Continue {
    sender: Arc<AtomicU8>,
}

impl Continue {
    pub(crate) fn new(sender: Arc<AtomicU8>) -> Continue {
        Continue { sender }
    }
}

/// The request body handed to the call: the reader, the size limit (a chunked body has no length up front),
/// the read deadline (counted from the first read, so that a client trickling bytes is cut off) and
/// `100 Continue`.
pub(crate) struct RequestBody {
    reader: Option<BodyReader>,
    home: Option<oneshot::Sender<BodyReader>>,
    allowed: u64,
    limit: u64,
    timeout: Option<Duration>,
    deadline: Option<Pin<Box<Sleep>>>,
    expect: Option<Continue>,
}

impl RequestBody {
    pub(crate) fn new(
        reader: BodyReader,
        home: oneshot::Sender<BodyReader>,
        limit: u64,
        timeout: Option<Duration>,
        expect: Option<Continue>,
    ) -> RequestBody {
        RequestBody { reader: Some(reader), home: Some(home), allowed: limit, limit, timeout, deadline: None, expect }
    }

    /// Gives the reader back to the connection.
    fn send_home(&mut self) {
        if let (Some(reader), Some(home)) = (self.reader.take(), self.home.take()) {
            let _ = home.send(reader);
        }
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Some(reader) = &mut self.reader {
            reader.failed = true;
        }
        Poll::Ready(Some(Err(error)))
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        self.send_home();
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if this.reader.is_none() {
            return Poll::Ready(None);
        }
        if let Some(timeout) = this.timeout {
            let deadline =
                this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + timeout)));
            if deadline.as_mut().poll(cx).is_ready() {
                return this.fail(Error::with_status(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body was not received within {} s (rotor.deployment.requestReadTimeoutSeconds)",
                        timeout.as_secs_f64()
                    ),
                ));
            }
        }
        let Some(reader) = &mut this.reader else { return Poll::Ready(None) };
        if let Some(expect) = &mut this.expect {
            // Claimed on the first read; afterwards the state says how much is out, or that the connection took
            // the job over (then it wrote, or writes, the rest ahead of its answer).
            let state = expect
                .sender
                .compare_exchange(CONTINUE_OWED, CONTINUE_BY_BODY, Ordering::AcqRel, Ordering::Acquire)
                .map_or_else(|state| state, |_| CONTINUE_BY_BODY);
            if state == CONTINUE_BY_CONNECTION {
                this.expect = None;
            } else {
                let before = state.saturating_sub(CONTINUE_BY_BODY);
                let mut written = usize::from(before);
                let sent = reader.poll_write_interim(CONTINUE, &mut written, cx);
                // `written` is at most CONTINUE's 25 bytes.
                let progress = CONTINUE_BY_BODY.saturating_add(u8::try_from(written).unwrap_or(u8::MAX));
                let _ = expect.sender.compare_exchange(state, progress, Ordering::AcqRel, Ordering::Acquire);
                match sent {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(error)) => {
                        return this.fail(Error::bad_request("sending 100 Continue failed").with_source(error));
                    }
                    Poll::Ready(Ok(())) => this.expect = None,
                }
            }
        }
        let Some(reader) = &mut this.reader else { return Poll::Ready(None) };
        match ready!(reader.poll_data(cx)) {
            None => {
                this.send_home();
                Poll::Ready(None)
            }
            Some(Ok(data)) => {
                let length = data.len() as u64;
                if length > this.allowed {
                    this.allowed = 0;
                    return this.fail(Error::payload_too_large(format!(
                        "the request body is larger than the limit of {} bytes (rotor.deployment.maxBodySize)",
                        this.limit
                    )));
                }
                this.allowed -= length;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.reader.as_ref().is_none_or(BodyReader::is_complete)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.reader {
            None => SizeHint::with_exact(0),
            Some(BodyReader { remaining: Remaining::Length(remaining), .. }) => SizeHint::with_exact(*remaining),
            Some(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_takes_over_exactly_what_is_left_of_100_continue() {
        let owed = AtomicU8::new(CONTINUE_OWED);
        assert_eq!(take_over_continue(&owed, true), CONTINUE, "nobody sent it: all of it");
        assert_eq!(take_over_continue(&owed, true), b"", "once only");
        assert_eq!(take_over_continue(&AtomicU8::new(CONTINUE_OWED), false), b"", "not owed to a body left unread");
        let begun = AtomicU8::new(CONTINUE_BY_BODY + 9);
        assert_eq!(take_over_continue(&begun, false), &CONTINUE[9..], "the rest of what the body began");
        let sent = AtomicU8::new(CONTINUE_BY_BODY + CONTINUE.len() as u8);
        assert_eq!(take_over_continue(&sent, true), b"", "the body sent all of it");
        assert_eq!(sent.load(Ordering::Acquire), CONTINUE_BY_CONNECTION, "the body sends nothing more");
    }
}
