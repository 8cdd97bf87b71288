//! Streaming compression of a body: each chunk is compressed and flushed as it arrives.

use std::io;
use std::pin::Pin;

use async_compression::Level;
use async_compression::tokio::write::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::Encoding;
use crate::call::Body;
use crate::{Error, Result};

/// An encoder writing into memory, whose output so far can be taken.
trait MemoryEncoder: AsyncWrite + Send + Unpin {
    fn take_output(&mut self) -> Bytes;
}

macro_rules! memory_encoder {
    ($($encoder:ident),*) => {$(
        impl MemoryEncoder for $encoder<Vec<u8>> {
            fn take_output(&mut self) -> Bytes {
                Bytes::from(std::mem::take(self.get_mut()))
            }
        }
    )*};
}

memory_encoder!(GzipEncoder, ZlibEncoder, BrotliEncoder, ZstdEncoder);

fn encoder(encoding: Encoding) -> Box<dyn MemoryEncoder> {
    let out = Vec::new();
    match encoding {
        Encoding::Gzip => Box::new(GzipEncoder::new(out)),
        // HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2), not raw deflate.
        Encoding::Deflate => Box::new(ZlibEncoder::new(out)),
        // Brotli's own default (quality 11) is far too slow for responses produced on the fly; 4 compresses
        // about as well as gzip's default, faster.
        Encoding::Brotli => Box::new(BrotliEncoder::with_quality(out, Level::Precise(4))),
        Encoding::Zstd => Box::new(ZstdEncoder::new(out)),
    }
}

/// Input is fed to the encoder at most this much at a time, so that a large whole body is compressed (and its
/// output sent) piece by piece rather than held compressed in memory at once.
const SLICE: usize = 64 * 1024;

struct State {
    input: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
    pending: Bytes,
    encoder: Box<dyn MemoryEncoder>,
    done: bool,
}

/// `body` compressed with `encoding`, as a stream: every chunk of input is written to the encoder and flushed,
/// so a slow or endless body reaches the client compressed as it is produced, never buffered whole.
pub(crate) fn encode_body(body: Body, encoding: Encoding) -> Body {
    let state = State {
        input: Box::pin(body.into_data_stream()),
        pending: Bytes::new(),
        encoder: encoder(encoding),
        done: false,
    };
    let chunks = futures_util::stream::try_unfold(state, |mut state| async move {
        loop {
            if state.done {
                return Ok::<_, Error>(None);
            }
            if state.pending.is_empty() {
                match state.input.next().await {
                    Some(chunk) => state.pending = chunk?,
                    None => {
                        state.encoder.shutdown().await.map_err(encode_error)?;
                        state.done = true;
                    }
                }
            }
            if !state.pending.is_empty() {
                let slice = state.pending.split_to(state.pending.len().min(SLICE));
                state.encoder.write_all(&slice).await.map_err(encode_error)?;
                if state.pending.is_empty() {
                    // The end of a chunk the body produced: send what it compressed to now.
                    state.encoder.flush().await.map_err(encode_error)?;
                }
            }
            let output = state.encoder.take_output();
            if !output.is_empty() {
                return Ok(Some((output, state)));
            }
        }
    });
    Body::from_stream(chunks)
}

fn encode_error(error: io::Error) -> Error {
    Error::internal("compressing the response body failed").with_source(error)
}
