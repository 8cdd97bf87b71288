//! Bodies cut out of other bodies: the requested ranges of a body read once, front to back, and bodies of
//! a declared exact length.

use std::collections::VecDeque;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::call::Body;
use crate::{Error, Result};

/// A piece of the answer: literal bytes (multipart headers) or a range of the inner body.
#[derive(Debug)]
pub(crate) enum Piece {
    Literal(Bytes),
    Range(Range<u64>),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Literal(bytes) => bytes.len() as u64,
            Piece::Range(range) => range.end - range.start,
        }
    }
}

/// Reads `inner` once from the front and yields the pieces in order; the ranges must be sorted and must not
/// overlap. In-memory chunks are sliced, never copied. Its length is exact, so `Content-Length` is sent.
pub(crate) struct RangesBody {
    inner: Body,
    pieces: VecDeque<Piece>,
    /// The offset in `inner` of the first byte of `chunk` (or of the next chunk read).
    offset: u64,
    chunk: Option<Bytes>,
    remaining: u64,
}

impl RangesBody {
    pub(crate) fn new(inner: Body, pieces: Vec<Piece>) -> Self {
        let remaining = pieces.iter().map(Piece::len).sum();
        RangesBody { inner, pieces: pieces.into(), offset: 0, chunk: None, remaining }
    }

    /// `Body::new` of this.
    pub(crate) fn into_body(self) -> Body {
        Body::new(self)
    }
}

/// `body` with a declared length: a stream that knows how long it is (a file, a proxied body with a
/// `Content-Length`) becomes a body whose length is known, so `Content-Length` is sent and
/// [`PartialContent`](super::PartialContent) can serve ranges of it. A longer stream is cut at `length`; a
/// shorter one ends with an error (never a silently short response).
///
/// ```
/// use rotor::call::Body;
/// use rotor::plugins::partial_content::known_length;
///
/// let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("hello"))]);
/// let body = known_length(Body::from_stream(chunks), 5);
/// assert_eq!(body.exact_len(), Some(5));
/// ```
pub fn known_length(body: Body, length: u64) -> Body {
    RangesBody::new(body, vec![Piece::Range(0..length)]).into_body()
}

fn ended_early() -> Error {
    Error::internal("the response body ended before the length it announced (the file changed while being sent?)")
}

impl http_body::Body for RangesBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        let this = self.get_mut();
        loop {
            let Some(piece) = this.pieces.front_mut() else { return Poll::Ready(None) };
            let range = match piece {
                Piece::Literal(bytes) => {
                    let bytes = std::mem::take(bytes);
                    this.pieces.pop_front();
                    this.remaining -= bytes.len() as u64;
                    if bytes.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Piece::Range(range) => range,
            };
            if range.start >= range.end {
                this.pieces.pop_front();
                continue;
            }
            if let Some(chunk) = this.chunk.take() {
                let chunk_end = this.offset + chunk.len() as u64;
                if chunk_end <= range.start {
                    this.offset = chunk_end;
                    continue;
                }
                let from = usize::try_from(range.start.saturating_sub(this.offset)).unwrap_or(chunk.len());
                let to = usize::try_from(range.end.min(chunk_end) - this.offset).unwrap_or(chunk.len());
                let data = chunk.slice(from..to);
                if to < chunk.len() {
                    this.chunk = Some(chunk.slice(to..));
                }
                this.offset += to as u64;
                range.start = this.offset;
                this.remaining -= data.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None => {
                    this.pieces.clear();
                    return Poll::Ready(Some(Err(ended_early())));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.chunk = Some(data);
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    fn chunked(text: &'static str, size: usize) -> Body {
        let chunks: Vec<_> = text.as_bytes().chunks(size).map(|c| Ok::<_, std::io::Error>(Bytes::from(c))).collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[test]
    fn ranges_cross_chunk_borders() {
        let pieces = vec![
            Piece::Range(1..4),
            Piece::Literal(Bytes::from_static(b"|")),
            Piece::Range(5..6),
            Piece::Literal(Bytes::from_static(b"|")),
            Piece::Range(8..10),
        ];
        let body = RangesBody::new(chunked("0123456789", 3), pieces).into_body();
        assert_eq!(body.exact_len(), Some(8));
        assert_eq!(block_on(body.collect()).unwrap(), "123|5|89");
    }

    #[test]
    fn a_short_stream_is_an_error_and_a_long_one_is_cut() {
        assert!(block_on(known_length(chunked("abc", 2), 5).collect()).is_err());
        assert_eq!(block_on(known_length(chunked("abcdef", 4), 5).collect()).unwrap(), "abcde");
    }
}
