//! One connection: which protocol it speaks, hyper's HTTP/1.1 or HTTP/2 connection with the limits, the idle and
//! header-read watch, graceful shutdown and abort.
//!
//! What a connection costs is kept to what hyper itself needs: no timer and no clock read per request, and per
//! connection one small shared [`ConnectionState`], one `Notified` and a few counters inside the task. Time is
//! counted in the engine's ticks ([`rotor_host_common::Signals`]).

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rotor::Application;
use rotor::engine::ProtocolLimits;
use rotor_host_common::{ConnectionHandler, EngineState, SignalWatch, Signals, Watch};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::service::CallService;

/// What every connection of one connector shares.
pub(crate) struct Shared {
    pub(crate) application: Arc<Application>,
    pub(crate) limits: ProtocolLimits,
    pub(crate) http1: http1::Builder,
    pub(crate) http2: http2::Builder<TokioExecutor>,
    pub(crate) signals: Arc<Signals>,
    pub(crate) watch: Option<Watch>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Shared {
    pub(crate) fn new(
        application: Arc<Application>,
        limits: &ProtocolLimits,
        signals: Arc<Signals>,
        #[cfg(feature = "tls")] tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Shared {
        let (http1, http2) = protocol_builders(limits);
        Shared {
            application,
            limits: limits.clone(),
            http1,
            http2,
            signals,
            watch: Watch::new(limits),
            #[cfg(feature = "tls")]
            tls,
        }
    }
}

/// One connection as its calls and its watch see it: the addresses, requests served, calls in flight, and
/// whether bytes moved since the last tick.
pub(crate) struct ConnectionState {
    pub(crate) shared: Arc<Shared>,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) local_addr: SocketAddr,
    pub(crate) requests: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    /// Bytes moved since the last tick.
    active: AtomicBool,
    /// HTTP/1: one more than the epoch at which the request head being read began; 0 between requests.
    head_since: AtomicU64,
}

impl ConnectionState {
    /// A call has begun: its head is read, and the connection is busy until it ends.
    ///
    /// `http1`: the connection speaks HTTP/1, where hyper calls the service, polls the call and drops it all in
    /// the connection's own task, one call at a time. The count then has a single writer, and a load and a
    /// store keep it (the watch only reads it) without the cost of a locked read-modify-write per call;
    /// HTTP/2 streams run in tasks of their own, concurrently, and count with `fetch_add`.
    pub(crate) fn call_started(&self, http1: bool) {
        self.head_since.store(0, Ordering::Relaxed);
        if http1 {
            self.in_flight.store(self.in_flight.load(Ordering::Relaxed) + 1, Ordering::Release);
        } else {
            self.in_flight.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A call has ended (`http1` as for [`call_started`](Self::call_started)).
    pub(crate) fn call_ended(&self, http1: bool) {
        if http1 {
            let in_flight = self.in_flight.load(Ordering::Relaxed);
            debug_assert!(in_flight > 0, "a call ended that was not counted as started");
            self.in_flight.store(in_flight.saturating_sub(1), Ordering::Release);
        } else {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        self.active.store(true, Ordering::Relaxed);
    }

    fn bytes_read(&self, heads: bool) {
        self.active.store(true, Ordering::Relaxed);
        if heads
            && self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since.load(Ordering::Relaxed) == 0
            && self.shared.watch.is_some()
        {
            let epoch = self.shared.signals.epoch();
            self.head_since.store(epoch + 1, Ordering::Relaxed);
        }
    }
}

/// Bytes in and out of a connection, recorded in its [`ConnectionState`]; `heads` for HTTP/1, where a read
/// between calls begins a request head.
struct ActivityIo<I> {
    inner: I,
    state: Arc<ConnectionState>,
    heads: bool,
}

impl<I: AsyncRead + Unpin> AsyncRead for ActivityIo<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.state.bytes_read(self.heads);
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ActivityIo<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            self.state.active.store(true, Ordering::Relaxed);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            self.state.active.store(true, Ordering::Relaxed);
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The protocol builders for every connection: HTTP/1.1 with keep-alive and pipeline flush, HTTP/2 (prior
/// knowledge over cleartext, or ALPN over TLS), with the limits applied.
fn protocol_builders(limits: &ProtocolLimits) -> (http1::Builder, http2::Builder<TokioExecutor>) {
    let mut http1 = http1::Builder::new();
    // hyper's buffer holds the whole request head; it must be at least 8 KiB, and sits above Rotor's line and
    // header-size limits, so that a request over them reaches the service and gets its 414 or 431.
    //
    // hyper parses a head into arrays of `max_headers` entries: on the stack up to 100, above that in two heap
    // arrays (32 bytes an entry) allocated and freed for every request. Those allocations cost CPU and, by
    // dirtying the pages later connections' buffers land on, about 5.5 KB of resident memory per idle
    // connection. So hyper's count limit is Rotor's, but at least 100: a request over Rotor's count with at most
    // 100 fields gets the service's 431; one over hyper's limit (or a head over its buffer) is closed by hyper
    // without an answer. (With pipeline flush on, hyper closes instead of sending its automatic 400/431 for a
    // head it refuses: a clean close, which HTTP allows.)
    //
    // The header read timeout is the engine's watch, not hyper's timer, which would cost a timer per request
    // and would also close idle keep-alive connections at the read timeout rather than the idle timeout.
    let head = limits.max_initial_line_length.saturating_add(limits.max_header_size).saturating_add(2048);
    http1
        .keep_alive(true)
        .pipeline_flush(true)
        .header_read_timeout(None)
        .max_headers(limits.max_headers.max(HYPER_INLINE_HEADERS))
        .max_buf_size(head.max(8192));
    let mut http2 = http2::Builder::new(TokioExecutor::new());
    http2.timer(TokioTimer::new()).max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX));
    (http1, http2)
}

/// The most header fields hyper parses without allocating (its `DEFAULT_MAX_HEADERS`).
const HYPER_INLINE_HEADERS: usize = 100;

/// The protocol a connection speaks.
enum Protocol {
    Http1,
    Http2,
}

/// The HTTP/2 connection preface a prior-knowledge client starts with.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Looks at the first bytes of a cleartext connection, without consuming them, for the HTTP/2 preface. `None`
/// if the client closed the connection first.
///
/// A start of the preface that is not completed within [`PREFACE_WAIT`] is read as HTTP/1 (which refuses it):
/// a peek cannot see that the client has ended its side after those bytes, so waiting longer could hold the
/// connection (and wake it every few milliseconds) until the read timeout. Clients send the preface in one write.
async fn sniff(stream: &TcpStream) -> io::Result<Option<Protocol>> {
    let mut start = [0u8; H2_PREFACE.len()];
    let mut waited = Duration::ZERO;
    loop {
        let read = stream.peek(&mut start).await?;
        if read == 0 {
            return Ok(None);
        }
        if start[..read] != H2_PREFACE[..read] || waited >= PREFACE_WAIT {
            return Ok(Some(Protocol::Http1));
        }
        if read == H2_PREFACE.len() {
            return Ok(Some(Protocol::Http2));
        }
        // The start of the preface so far (rare: a client that splits it): look again shortly.
        tokio::time::sleep(PREFACE_STEP).await;
        waited += PREFACE_STEP;
    }
}

/// How long a connection that sent the start of the HTTP/2 preface may take to send the rest, and how often it is
/// looked at meanwhile.
const PREFACE_WAIT: Duration = Duration::from_millis(100);
const PREFACE_STEP: Duration = Duration::from_millis(5);

impl ConnectionHandler for Shared {
    fn serve(
        self: Arc<Self>,
        stream: TcpStream,
        remote_addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        serve(stream, remote_addr, self, shutdown)
    }
}

/// Serves one accepted connection until the client closes it, it stays idle too long, its request head takes
/// too long, the engine shuts down gracefully (in-flight calls finish, HTTP/1.1 answers with
/// `Connection: close`, HTTP/2 sends GOAWAY) or the engine aborts (the connection is dropped).
async fn serve(stream: TcpStream, remote_addr: SocketAddr, shared: Arc<Shared>, shutdown: CancellationToken) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(target: "rotor::engine", %error, "cannot set TCP_NODELAY");
    }
    let Ok(local_addr) = stream.local_addr() else { return };
    #[cfg(feature = "tls")]
    if shared.tls.is_some() {
        // Boxed, so that a cleartext connection's task does not carry the size of a TLS session.
        Box::pin(serve_tls(stream, remote_addr, local_addr, shared, shutdown)).await;
        return;
    }
    // Until the first bytes arrive the connection is idle, or reading its first request head.
    let first_bytes = shared.limits.request_read_timeout.or(shared.limits.connection_idle_timeout);
    let protocol = tokio::select! {
        sniffed = sniff(&stream) => sniffed,
        () = shutdown.cancelled() => return,
        () = sleep_or_forever(first_bytes) => {
            tracing::debug!(target: "rotor::engine", %remote_addr, "no request within the timeout; closing");
            return;
        }
    };
    drop(shutdown);
    let state = Arc::new(new_state(shared, remote_addr, local_addr));
    match protocol {
        Ok(Some(Protocol::Http1)) => serve_http1(stream, state).await,
        Ok(Some(Protocol::Http2)) => Box::pin(serve_http2(stream, state)).await,
        Ok(None) => {}
        Err(error) => tracing::debug!(target: "rotor::engine", %error, "reading from a connection failed"),
    }
}

fn new_state(shared: Arc<Shared>, remote_addr: SocketAddr, local_addr: SocketAddr) -> ConnectionState {
    ConnectionState {
        shared,
        remote_addr,
        local_addr,
        requests: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        active: AtomicBool::new(true),
        head_since: AtomicU64::new(0),
    }
}

async fn sleep_or_forever(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => std::future::pending().await,
    }
}

async fn serve_http1<I>(io: I, state: Arc<ConnectionState>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(ActivityIo { inner: io, state: Arc::clone(&state), heads: true });
    let connection = state.shared.http1.serve_connection(io, CallService::new(Arc::clone(&state)));
    drive(pin!(connection), &state, true).await;
}

async fn serve_http2<I>(io: I, state: Arc<ConnectionState>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(ActivityIo { inner: io, state: Arc::clone(&state), heads: false });
    let connection = state.shared.http2.serve_connection(io, CallService::new(Arc::clone(&state)));
    drive(pin!(connection), &state, false).await;
}

#[cfg(feature = "tls")]
async fn serve_tls(
    stream: TcpStream,
    remote_addr: SocketAddr,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let Some(tls) = shared.tls.clone() else { return };
    // A handshake never waits forever, even with no read timeout configured.
    let limit = shared.limits.request_read_timeout.unwrap_or(Duration::from_secs(30));
    let handshake = tokio::time::timeout(limit, tls.accept(stream));
    let stream = tokio::select! {
        () = shutdown.cancelled() => return,
        handshake = handshake => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(target: "rotor::engine", %error, %remote_addr, "TLS handshake failed");
                return;
            }
            Err(_elapsed) => {
                tracing::debug!(target: "rotor::engine", %remote_addr, "TLS handshake timed out");
                return;
            }
        },
    };
    drop(shutdown);
    // ALPN decides: `h2`, or HTTP/1.1 for `http/1.1` and for clients that offer no ALPN.
    let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let state = Arc::new(new_state(shared, remote_addr, local_addr));
    if http2 { serve_http2(stream, state).await } else { serve_http1(stream, state).await }
}

/// A hyper connection that can be asked to finish gracefully.
trait GracefulConnection: Future<Output = Result<(), hyper::Error>> {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I> GracefulConnection for http1::Connection<I, CallService>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        http1::Connection::graceful_shutdown(self);
    }
}

impl<I> GracefulConnection for http2::Connection<I, CallService, TokioExecutor>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        http2::Connection::graceful_shutdown(self);
    }
}

/// Polls `connection` to its end while watching the engine's signals: one atomic load per poll; the
/// `Notified` is polled again only after a signal (the connection's task keeps one waker for its life).
async fn drive<C: GracefulConnection>(mut connection: Pin<&mut C>, state: &ConnectionState, heads: bool) {
    let signals = &*state.shared.signals;
    let watch = state.shared.watch;
    let mut notified = pin!(signals.notified());
    let mut seen = SignalWatch::new(signals);
    let mut quiet = 0u64;
    let mut closing = false;
    let ended = poll_fn(|cx| {
        if let Some(change) = seen.poll(signals, notified.as_mut(), cx) {
            match change.state {
                EngineState::Aborting => return Poll::Ready(Err(Ended::Aborted)),
                EngineState::Stopping if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                _ => {}
            }
            if let Some(watch) = watch.filter(|_| change.ticks > 0) {
                let busy = state.active.swap(false, Ordering::Relaxed) || state.in_flight.load(Ordering::Acquire) > 0;
                quiet = if busy { 0 } else { quiet.saturating_add(change.ticks) };
                if watch.idle_ticks.is_some_and(|limit| quiet >= limit) && !closing {
                    tracing::debug!(target: "rotor::engine", "closing an idle connection");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                let head_since = state.head_since.load(Ordering::Relaxed);
                if heads
                    && head_since != 0
                    && watch.read_ticks.is_some_and(|limit| change.epoch + 1 - head_since > limit)
                {
                    return Poll::Ready(Err(Ended::HeadTimeout));
                }
            }
        }
        connection.as_mut().poll(cx).map(|result| result.map_err(Ended::Error))
    })
    .await;
    match ended {
        Ok(()) => {}
        Err(Ended::Aborted) => tracing::debug!(target: "rotor::engine", "connection aborted at the shutdown timeout"),
        Err(Ended::HeadTimeout) => tracing::debug!(
            target: "rotor::engine",
            remote_addr = %state.remote_addr,
            "a request head was not received within the read timeout; closing"
        ),
        Err(Ended::Error(error)) => tracing::debug!(target: "rotor::engine", %error, "connection ended with an error"),
    }
}

enum Ended {
    Aborted,
    HeadTimeout,
    Error(hyper::Error),
}
