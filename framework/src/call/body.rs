//! `Body`: a request or response body, whole or streaming.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, TryStream, TryStreamExt};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, StreamBody};

use crate::{BoxError, Error, Result};

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = Error> + Send + 'static>>;

/// A request or response body: empty, whole bytes, or a stream of byte chunks.
///
/// Engines hand the request body to the call as a stream, never buffered ahead; a handler reads it with
/// [`ApplicationCall::receive`](super::ApplicationCall::receive) or takes the stream itself. It implements
/// [`http_body::Body`], so it plugs into hyper and the `http-body` ecosystem.
///
/// ```
/// use rotor::call::Body;
/// use bytes::Bytes;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("hel")), Ok(Bytes::from("lo"))]);
/// let body = Body::from_stream(chunks);
/// assert_eq!(body.exact_len(), None);
/// assert_eq!(body.collect().await.unwrap(), "hello");
/// assert_eq!(Body::from("whole").exact_len(), Some(5));
/// # });
/// ```
pub struct Body {
    repr: Repr,
}

enum Repr {
    Empty,
    Full(Option<Bytes>),
    Stream(BoxBody),
}

impl Body {
    /// A body with no bytes.
    pub const fn empty() -> Self {
        Body { repr: Repr::Empty }
    }

    /// A body of exactly `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() { Body::empty() } else { Body { repr: Repr::Full(Some(bytes)) } }
    }

    /// A body read from a stream of byte chunks.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: TryStream + Send + 'static,
        S::Ok: Into<Bytes>,
        S::Error: Into<BoxError>,
    {
        let frames = stream
            .map_ok(|chunk| Frame::data(chunk.into()))
            .map_err(|error| Error::from_body_error(error.into(), "the body stream failed"));
        Body { repr: Repr::Stream(Box::pin(StreamBody::new(frames))) }
    }

    /// A body made from any [`http_body::Body`] (hyper's `Incoming`, for one).
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body + Send + 'static,
        B::Data: Into<Bytes>,
        B::Error: Into<BoxError>,
    {
        Body { repr: Repr::Stream(Box::pin(Converted { body })) }
    }

    /// The length, when it is known before reading (empty and whole bodies, and streams that say so).
    pub fn exact_len(&self) -> Option<u64> {
        http_body::Body::size_hint(self).exact()
    }

    /// True for a body known to hold no bytes.
    pub fn is_empty_body(&self) -> bool {
        http_body::Body::is_end_stream(self)
    }

    /// The bytes, when the whole body is already in memory (no reading needed).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.repr {
            Repr::Full(Some(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// Reads the whole body into one buffer.
    ///
    /// # Errors
    /// If reading the stream fails (the client went away, a limit was hit).
    pub async fn collect(self) -> Result<Bytes> {
        match self.repr {
            Repr::Empty | Repr::Full(None) => Ok(Bytes::new()),
            Repr::Full(Some(bytes)) => Ok(bytes),
            Repr::Stream(mut stream) => {
                let mut first: Option<Bytes> = None;
                let mut buffer: Option<BytesMut> = None;
                while let Some(frame) = stream.frame().await {
                    let Ok(data) = frame?.into_data() else { continue };
                    if data.is_empty() {
                        continue;
                    }
                    match (&mut buffer, &first) {
                        (Some(buffer), _) => buffer.extend_from_slice(&data),
                        (None, None) => first = Some(data),
                        (None, Some(head)) => {
                            let mut joined = BytesMut::with_capacity(head.len() + data.len());
                            joined.extend_from_slice(head);
                            joined.extend_from_slice(&data);
                            buffer = Some(joined);
                        }
                    }
                }
                Ok(match buffer {
                    Some(buffer) => buffer.freeze(),
                    None => first.unwrap_or_default(),
                })
            }
        }
    }

    /// The body as a stream of data chunks.
    pub fn into_data_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        BodyExt::into_data_stream(self)
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Empty => f.write_str("Body::Empty"),
            Repr::Full(bytes) => write!(f, "Body::Full({} bytes)", bytes.as_ref().map_or(0, Bytes::len)),
            Repr::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        match &mut self.repr {
            Repr::Empty => Poll::Ready(None),
            Repr::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Repr::Stream(stream) => stream.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.repr {
            Repr::Empty | Repr::Full(None) => true,
            Repr::Full(Some(_)) => false,
            Repr::Stream(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.repr {
            Repr::Empty | Repr::Full(None) => SizeHint::with_exact(0),
            Repr::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Repr::Stream(stream) => stream.size_hint(),
        }
    }
}

pin_project_lite::pin_project! {
    /// Any body as one of `Bytes` chunks and [`Error`]s, keeping its size hint (which `map_frame` drops). The
    /// body sits inline, so that `Body::new` boxes once.
    struct Converted<B> {
        #[pin]
        body: B,
    }
}

impl<B> http_body::Body for Converted<B>
where
    B: http_body::Body,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        self.project().body.poll_frame(cx).map(|frame| {
            frame.map(|frame| {
                frame
                    .map(|frame| frame.map_data(Into::into))
                    .map_err(|error| Error::from_body_error(error.into(), "reading the body failed"))
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::full(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::full(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::full(Bytes::from_static(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn whole_bodies_know_their_length() {
        assert_eq!(Body::empty().exact_len(), Some(0));
        assert_eq!(Body::from("abc").exact_len(), Some(3));
        assert!(Body::from("").is_empty_body());
        assert_eq!(Body::from(Bytes::from_static(b"xy")).as_bytes().map(Bytes::len), Some(2));
    }

    #[test]
    fn any_http_body_keeps_its_size_hint() {
        let body = Body::new(http_body_util::Full::new(Bytes::from_static(b"abc")));
        assert_eq!(body.exact_len(), Some(3));
        assert_eq!(block_on(body.collect()).unwrap(), "abc");
    }

    #[test]
    fn streams_collect_in_order() {
        let chunks = (0..50).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("{i},"))));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let expected: String = (0..50).map(|i| format!("{i},")).collect();
        assert_eq!(block_on(body.collect()).unwrap(), expected);
    }

    #[test]
    fn a_failing_stream_is_an_error_not_a_truncated_body() {
        let chunks = [Ok(Bytes::from("part")), Err(std::io::Error::other("connection reset"))];
        let error = block_on(Body::from_stream(futures_util::stream::iter(chunks)).collect()).unwrap_err();
        assert!(error.to_string().contains("connection reset"), "{error}");
    }
}
