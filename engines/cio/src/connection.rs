//! One connection: parse every request head the read buffer holds, run each as a call, encode the answers into
//! the write buffer, write them together, read more.
//!
//! The connection's task watches the engine's signals with one atomic load per poll: an abort ends it wherever
//! it is; a stop closes it when it is idle, and otherwise after the answer under way (`Connection: close`). The
//! idle and head-read timeouts are counted in ticks of the engine clock, checked when the task wakes for a tick:
//! no timer per request or per read.

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::task::Poll;
use std::time::Duration;

use http::{Method, StatusCode};
use rotor::call::{Body, EngineResponse, RawField, RequestHeaders, SpareCall};
use rotor::engine::ProtocolLimits;
use rotor::{Application, ApplicationCall};
use rotor_host_common::{ConnectionHandler, EngineState, SignalWatch, Signals, Watch};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::field_names::FieldNames;
use crate::head::{self, Framing, Peer};
use crate::inbound::Inbound;
use crate::outbound::{FLUSH_AT, Outbound};
use crate::request_body::{BodyReader, CONTINUE_OWED, Continue, RequestBody, take_over_continue};
use crate::response::{self, Answering};

/// The largest vector of parsed fields a connection keeps for its next request (48 bytes a field); a larger one,
/// grown by a request with many fields, is freed.
const MAX_KEPT_FIELDS: usize = 32;
/// How much of a body the call left unread the connection reads and discards to stay open; above it, it closes.
const DRAIN_LIMIT: u64 = 64 * 1024;
/// How long discarding an unread body, or lingering before a close, may take.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// What every connection of one connector shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) application: Arc<Application>,
    pub(crate) limits: ProtocolLimits,
    pub(crate) signals: Arc<Signals>,
    pub(crate) watch: Option<Watch>,
}

impl ConnectionHandler for Shared {
    fn serve(
        self: Arc<Self>,
        stream: TcpStream,
        remote_addr: SocketAddr,
        _shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        serve(self, stream, remote_addr)
    }
}

/// Serves one accepted connection until the client closes it, a timeout or a refusal closes it, or the engine
/// stops (after the answer under way) or aborts (at once).
async fn serve(shared: Arc<Shared>, stream: TcpStream, remote_addr: SocketAddr) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(target: "rotor::engine", %error, "cannot set TCP_NODELAY");
    }
    let Ok(local_addr) = stream.local_addr() else { return };
    let signals = &*shared.signals;
    let mut notified = pin!(signals.notified());
    let mut watch = SignalWatch::new(signals);
    let mut connection = pin!(Connection::new(&shared, stream, remote_addr, local_addr).run());
    poll_fn(|cx| {
        // Every signal wakes this task (and with it the connection, which reads the state and the clock itself).
        if watch.poll(signals, notified.as_mut(), cx).is_some_and(|change| change.state == EngineState::Aborting) {
            tracing::debug!(target: "rotor::engine", "connection aborted at the shutdown timeout");
            return Poll::Ready(());
        }
        connection.as_mut().poll(cx)
    })
    .await;
}

/// One connection's state.
struct Connection<'s> {
    shared: &'s Shared,
    remote_addr: SocketAddr,
    local_addr: SocketAddr,
    /// The read side; lent to a request body while a call reads it.
    inbound: Option<Inbound>,
    out: Outbound,
    /// Scratch space for the head parser.
    spans: Vec<head::FieldSpan>,
    /// The vector the next request's parsed fields go into: the last request's, given back emptied by its call.
    fields: Vec<RawField>,
    /// The field names this connection's requests sent, by position (see `field_names`).
    names: FieldNames,
    /// The storage of the connection's last call, emptied, for its next one; dropped at the first tick of the engine
    /// clock that finds the connection idle (a tick is a quarter of the shortest timeout; with no idle or read
    /// timeout there is no clock, and it is kept until the connection closes).
    spare: Option<SpareCall>,
    /// Requests begun on this connection.
    served: u64,
    /// The epoch at which the bytes of the head being read began to arrive.
    head_since: Option<u64>,
}

/// Why a connection stops waiting for bytes.
enum Waited {
    /// More bytes are in the buffer.
    Read,
    /// Close the connection.
    Close,
}

impl<'s> Connection<'s> {
    fn new(shared: &'s Shared, stream: TcpStream, remote_addr: SocketAddr, local_addr: SocketAddr) -> Self {
        let (read, write) = stream.into_split();
        Connection {
            shared,
            remote_addr,
            local_addr,
            inbound: Some(Inbound::new(read)),
            // A client that reads nothing of an answer for the idle timeout is idle too.
            out: Outbound::new(write, shared.limits.connection_idle_timeout),
            spans: Vec::new(),
            fields: Vec::new(),
            names: FieldNames::default(),
            spare: None,
            served: 0,
            head_since: None,
        }
    }

    async fn run(mut self) {
        loop {
            match self.answer().await {
                Some(true) => {
                    if self.out.buffer.len() >= FLUSH_AT && self.out.flush().await.is_err() {
                        return;
                    }
                }
                None => {
                    // Everything the buffer held is answered: write the answers, then wait for more.
                    if self.out.flush().await.is_err() {
                        return;
                    }
                    match self.read_more().await {
                        Waited::Read => {}
                        Waited::Close => return,
                    }
                }
                Some(false) => {
                    self.close().await;
                    return;
                }
            }
        }
    }

    /// Parses the next request head in the buffer, runs its call and buffers the answer (or the engine's refusal
    /// of a bad head): `Some(false)` when the connection must close after it, `None` when the buffer holds no
    /// complete head. The head is parsed here, in this future, rather than handed in: it is moved once less.
    async fn answer(&mut self) -> Option<bool> {
        let inbound = self.inbound.as_mut()?;
        let peer = Peer { remote: self.remote_addr, local: self.local_addr };
        let (spans, fields, names) = (&mut self.spans, &mut self.fields, &mut self.names);
        let head = match head::parse(&mut inbound.buffer, &self.shared.limits, spans, fields, names, peer) {
            Ok(Some(head)) => head,
            Ok(None) => return None,
            Err(refusal) => {
                tracing::debug!(
                    target: "rotor::engine",
                    remote_addr = %self.remote_addr,
                    status = refusal.status.as_u16(),
                    "refused a request: {}",
                    refusal.message
                );
                response::refusal(&mut self.out.buffer, &refusal);
                return Some(false);
            }
        };
        self.head_since = None;
        let shared = self.shared;
        let limits = &shared.limits;
        self.served += 1;
        let mut answering = Answering {
            version: head.request.version(),
            head_only: head.request.method() == Method::HEAD,
            keep_alive: head.keep_alive && limits.max_requests_per_connection.is_none_or(|max| self.served < max),
        };
        let mut body_home = None;
        let mut answered = None;
        let body = if head.framing == Framing::Empty {
            Body::empty()
        } else {
            // Answers buffered so far go first: `100 Continue` goes straight to the socket.
            if self.out.flush().await.is_err() {
                return Some(false);
            }
            let Some(inbound) = self.inbound.take() else { return Some(false) };
            let (home, returned) = oneshot::channel();
            body_home = Some(returned);
            answered = head.expects_continue.then(|| Arc::new(AtomicU8::new(CONTINUE_OWED)));
            let expect = answered.clone().map(Continue::new);
            let reader = BodyReader::new(inbound, head.framing);
            Body::new(RequestBody::new(reader, home, limits.max_body_size, limits.request_read_timeout, expect))
        };
        let call = match self.spare.take() {
            Some(spare) => spare.into_call(head.request, body),
            None => ApplicationCall::new(Arc::clone(&shared.application), head.request, body),
        };
        let mut execution = call.execute();
        let _ = (&mut execution).await;
        // Ending the call (after its answer is taken) drops the request body, unless the call handed it on: it
        // comes home now. The vector of the request's parsed fields is kept for the connection's next head (a map
        // the application had built from them is dropped), and the call's storage, emptied, for its next call.
        let (mut taken, headers, spare) = execution.into_call().into_engine_parts_and_spare();
        keep_fields(&mut self.fields, headers);
        self.spare = spare;
        if shared.signals.state() != EngineState::Running {
            answering.keep_alive = false;
        }
        // A body that came home unfinished after a failure (over the limit, too slow, malformed), or unread by a
        // client that waits for `100 Continue`, cannot be read past: the answer says the connection closes.
        // So does one with more left unread than the connection discards to stay open.
        let mut came_home = body_home.as_mut().and_then(|returned| returned.try_recv().ok());
        if came_home.as_ref().is_some_and(|reader| {
            !reader.is_complete()
                && (reader.has_failed()
                    || head.expects_continue
                    || reader.remaining_length().is_some_and(|left| left > DRAIN_LIMIT))
        }) {
            answering.keep_alive = false;
        }
        // A final answer cannot be interim: the client would wait on (or switch protocols after) it.
        let interim = taken.as_ref().map(EngineResponse::status).filter(StatusCode::is_informational);
        if let Some(status) = interim {
            tracing::error!(target: "rotor::engine", %status, "a call answered with a 1xx status");
        }
        let Some(response) = taken.as_mut().filter(|_| interim.is_none()) else {
            tracing::error!(target: "rotor::engine", "a call finished without a usable response; answering 500");
            if let Some(answered) = &answered {
                self.out.buffer.extend_from_slice(take_over_continue(answered, false));
            }
            response::bare(&mut self.out.buffer, StatusCode::INTERNAL_SERVER_ERROR);
            self.inbound = came_home.map(BodyReader::into_unfinished);
            return Some(false);
        };
        if let Some(answered) = &answered {
            // The body may still be read after this (an answer that streams it back): a `100 Continue` the call
            // has not sent goes out now, ahead of the final answer, unless the body came home unread; so does the
            // rest of one the body began.
            self.out.buffer.extend_from_slice(take_over_continue(answered, came_home.is_none()));
        }
        let written = response::write(&mut self.out, response, answering).await;
        // The answer's body goes now (whatever its stream holds), not after the request body is drained. Dropped in
        // place: `drop(taken)` copied the 208-byte answer first (26 instructions a request).
        #[allow(unused_assignments)]
        {
            taken = None;
        }
        let keep_alive = match written {
            Ok(keep_alive) => keep_alive,
            Err(error) => {
                tracing::debug!(target: "rotor::engine", %error, "writing an answer failed");
                return Some(false);
            }
        };
        if came_home.is_none() {
            match body_home.as_mut().map(oneshot::Receiver::try_recv) {
                // No request body.
                None => return Some(keep_alive),
                Some(Ok(reader)) => came_home = Some(reader),
                // Kept by a task that outlives the call: the connection cannot read on.
                Some(Err(_)) => return Some(false),
            }
        }
        let Some(reader) = came_home else { return Some(false) };
        if reader.is_complete() {
            self.inbound = reader.into_inbound();
            return Some(keep_alive);
        }
        if !keep_alive {
            // A lingering close reads (and drops) what the client still sends, so that it sees the answer.
            self.inbound = Some(reader.into_unfinished());
            return Some(false);
        }
        // The call left (part of) its body unread: discard a little of it to keep the connection.
        if self.out.flush().await.is_err() {
            return Some(false);
        }
        match reader.drain(DRAIN_LIMIT, DRAIN_TIME).await {
            Ok(inbound) => {
                self.inbound = Some(inbound);
                Some(true)
            }
            Err(unfinished) => {
                self.inbound = Some(unfinished);
                Some(false)
            }
        }
    }

    /// Waits for more bytes, or for a reason to close: the client closed, the engine stops while the connection
    /// is idle, or the idle or head-read timeout passed.
    async fn read_more(&mut self) -> Waited {
        let Some(inbound) = self.inbound.as_mut() else { return Waited::Close };
        let signals = &*self.shared.signals;
        let watch = self.shared.watch;
        let waiting_since = watch.map_or(0, |_| signals.epoch());
        if inbound.buffer.is_empty() {
            self.head_since = None;
        } else if self.head_since.is_none() {
            self.head_since = Some(waiting_since);
        }
        let head_since = self.head_since;
        let remote_addr = self.remote_addr;
        let spare = &mut self.spare;
        poll_fn(|cx| {
            match inbound.poll_fill(cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Waited::Close),
                Poll::Ready(Ok(_)) => return Poll::Ready(Waited::Read),
                Poll::Ready(Err(error)) => {
                    tracing::debug!(target: "rotor::engine", %error, "reading from a connection failed");
                    return Poll::Ready(Waited::Close);
                }
                Poll::Pending => {}
            }
            if signals.state() != EngineState::Running {
                // Stopping: an idle connection closes at once, as does one with only part of a head.
                return Poll::Ready(Waited::Close);
            }
            let idle = inbound.buffer.is_empty();
            if let Some(watch) = watch {
                let epoch = signals.epoch();
                if idle && epoch > waiting_since {
                    // A tick found the connection idle: the last call's storage is not kept for a request that may
                    // never come.
                    *spare = None;
                }
                if idle && watch.idle_ticks.is_some_and(|limit| epoch.saturating_sub(waiting_since) >= limit) {
                    tracing::debug!(target: "rotor::engine", %remote_addr, "closing an idle connection");
                    return Poll::Ready(Waited::Close);
                }
                let since = head_since.unwrap_or(waiting_since);
                if !idle && watch.read_ticks.is_some_and(|limit| epoch.saturating_sub(since) > limit) {
                    tracing::debug!(
                        target: "rotor::engine",
                        %remote_addr,
                        "a request head was not received within the read timeout; closing"
                    );
                    return Poll::Ready(Waited::Close);
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Writes what is buffered and closes; when request bytes may still arrive, first reads and drops them for a
    /// moment, so that the close does not reset the connection before the client has read the answer.
    async fn close(mut self) {
        self.spare = None;
        // The answer goes out as any other (a client that stops reading is let go after the idle timeout).
        if self.out.shutdown().await.is_err() {
            return;
        }
        let Some(mut inbound) = self.inbound.take() else { return };
        let linger = async {
            let mut discarded = 0u64;
            while discarded <= DRAIN_LIMIT {
                inbound.buffer.clear();
                match poll_fn(|cx| inbound.poll_fill(cx)).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => discarded += read as u64,
                }
            }
        };
        // Bounded: a client that sends for ever is let go.
        let _ = tokio::time::timeout(DRAIN_TIME, linger).await;
    }
}

/// Keeps the vector of a finished request's parsed fields as `kept`, for the connection's next head: when the call
/// gave its fields back (the engine held its last handle) as parsed, and the vector has room for
/// [`MAX_KEPT_FIELDS`] or fewer (a larger one, grown by a request with many fields, is freed).
fn keep_fields(kept: &mut Vec<RawField>, headers: Option<RequestHeaders>) {
    if let Some((_, Some(fields))) = headers.map(RequestHeaders::into_parts) {
        if fields.capacity() <= MAX_KEPT_FIELDS {
            *kept = fields;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::HeaderName;

    use super::*;

    /// Parsed fields as an engine hands them over: `count` fields in a vector with room for `capacity`.
    fn parsed(count: usize, capacity: usize) -> (RequestHeaders, *const RawField) {
        let mut fields = Vec::with_capacity(capacity);
        for _ in 0..count {
            fields.push((HeaderName::from_static("x-a"), 0..1));
        }
        let address = fields.as_ptr();
        (RequestHeaders::from_raw(Bytes::from_static(b"1"), fields), address)
    }

    #[test]
    fn a_small_vector_of_fields_is_kept_emptied_and_a_large_one_or_a_map_is_not() {
        let mut kept = Vec::new();
        let (small, address) = parsed(3, 8);
        keep_fields(&mut kept, Some(small));
        assert_eq!((kept.len(), kept.as_ptr()), (0, address), "the same vector, emptied");

        let (large, _) = parsed(40, MAX_KEPT_FIELDS + 1);
        keep_fields(&mut kept, Some(large));
        assert_eq!(kept.as_ptr(), address, "a vector over the bound is freed, the kept one stays");

        keep_fields(&mut kept, Some(RequestHeaders::from(http::HeaderMap::new())));
        keep_fields(&mut kept, None);
        assert_eq!(kept.as_ptr(), address, "a map, or no fields back (another handle held the call): nothing kept");
    }
}
