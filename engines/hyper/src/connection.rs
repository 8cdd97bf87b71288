//! One connection: the protocol builder with the limits, the idle watchdog, graceful shutdown and abort.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rotor::engine::ProtocolLimits;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::service::CallService;

/// What a connection has done: requests served, calls in flight, and when bytes last moved.
#[derive(Debug)]
pub(crate) struct Activity {
    pub(crate) requests: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    opened: Instant,
    /// Milliseconds after `opened` at which bytes last moved.
    last: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            opened: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Records that the connection did something now.
    pub(crate) fn touch(&self) {
        let elapsed = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(elapsed, Ordering::Relaxed);
    }

    fn last_activity(&self) -> Instant {
        self.opened + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }
}

/// Bytes in and out of a connection, recorded in its [`Activity`].
struct ActivityIo<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for ActivityIo<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ActivityIo<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
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
            self.activity.touch();
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

/// The protocol builder for every connection: HTTP/1.1 with keep-alive and pipeline flush, HTTP/2 (prior
/// knowledge over cleartext, or ALPN over TLS), with the limits applied.
pub(crate) fn protocol_builder(limits: &ProtocolLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's buffer holds the whole request head; it must be at least 8 KiB. hyper's own header-count and
    // head-size limits sit above Rotor's, so that a request over Rotor's limits reaches the service and gets its
    // 431; one far over them (twice the count, or a head over the buffer) is closed by hyper without an answer.
    // (With pipeline flush on, hyper closes instead of sending its automatic 400/431 for a head it cannot
    // parse: a clean close, which HTTP allows for a malformed request.)
    let head = limits.max_initial_line_length.saturating_add(limits.max_header_size).saturating_add(2048);
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .pipeline_flush(true)
        .header_read_timeout(limits.request_read_timeout)
        .max_headers(limits.max_headers.saturating_mul(2).max(100))
        .max_buf_size(head.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX));
    builder
}

/// Serves one connection until the client closes it, it stays idle too long, the engine shuts down
/// gracefully (`shutdown`: in-flight calls finish, HTTP/1.1 answers with `Connection: close`, HTTP/2 sends
/// GOAWAY) or the engine aborts (`abort`: the connection is dropped).
pub(crate) async fn serve<I>(
    io: I,
    builder: Arc<auto::Builder<TokioExecutor>>,
    service: CallService,
    shutdown: CancellationToken,
    abort: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::clone(&service.activity);
    activity.touch();
    let idle_timeout = service.limits.connection_idle_timeout;
    // Without an idle limit the watchdog sleeps for a year at a time.
    let idle_timeout_or_forever = idle_timeout.unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let io = ActivityIo { inner: io, activity: Arc::clone(&activity) };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        // While a call runs, the connection is not idle: look again a full timeout later.
        let idle_deadline = if activity.in_flight.load(Ordering::Acquire) > 0 {
            Instant::now() + idle_timeout_or_forever
        } else {
            activity.last_activity() + idle_timeout_or_forever
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(target: "rotor::engine", %error, "connection ended with an error");
                }
                return;
            }
            () = shutdown.cancelled(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = abort.cancelled() => {
                tracing::debug!(target: "rotor::engine", "connection aborted at the shutdown timeout");
                return;
            }
            () = tokio::time::sleep_until(idle_deadline), if !closing => {
                let idle = idle_timeout.is_some()
                    && activity.in_flight.load(Ordering::Acquire) == 0
                    && activity.last_activity() + idle_timeout_or_forever <= Instant::now();
                if idle {
                    tracing::debug!(target: "rotor::engine", ?idle_timeout, "closing an idle connection");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
