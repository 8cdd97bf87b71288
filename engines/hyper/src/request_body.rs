//! The request body as the call sees it: hyper's stream, cut off at the size limit and the read deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use rotor::Error;
use tokio::time::{Instant, Sleep};

/// hyper's request body with `maxBodySize` enforced while it streams (a chunked body has no length up front)
/// and `requestReadTimeoutSeconds` as a deadline for the whole body, counted from the first read, so that a
/// client trickling bytes is cut off.
pub(crate) struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    timeout: Option<Duration>,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl LimitedBody {
    pub(crate) fn new(inner: Incoming, limit: u64, timeout: Option<Duration>) -> Self {
        LimitedBody { inner, remaining: limit, limit, timeout, deadline: None }
    }
}

/// The error for a body over the limit; answers 413.
pub(crate) fn too_large(limit: u64) -> Error {
    Error::payload_too_large(format!(
        "the request body is larger than the limit of {limit} bytes (rotor.deployment.maxBodySize)"
    ))
}

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if let Some(timeout) = this.timeout {
            let deadline =
                this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + timeout)));
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(Error::with_status(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body was not received within {} s (rotor.deployment.requestReadTimeoutSeconds)",
                        timeout.as_secs_f64()
                    ),
                ))));
            }
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        Poll::Ready(frame.map(|frame| {
            let frame =
                frame.map_err(|error| Error::bad_request("reading the request body failed").with_source(error))?;
            if let Some(data) = frame.data_ref() {
                let length = data.len() as u64;
                if length > this.remaining {
                    this.remaining = 0;
                    return Err(too_large(this.limit));
                }
                this.remaining -= length;
            }
            Ok(frame)
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
