//! Decoding of compressed request bodies, in the receive pipeline's Before phase.

use std::io;

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use futures_util::TryStreamExt;
use http::header::CONTENT_ENCODING;
use tokio_util::io::{ReaderStream, StreamReader};

use super::Encoding;
use crate::call::{Body, ReceiveContext, visible_ascii};
use crate::{BoxError, Error, Result};

/// Replaces the body of a request with `Content-Encoding` by the decoded stream (codings are undone in the
/// reverse of the order they were applied). An unknown coding is refused with 415.
pub(crate) fn decode_request(ctx: &ReceiveContext) -> Result<()> {
    // Read where the fields lie: no request header map is built for them.
    let request = ctx.context().request();
    if request.header_values(&CONTENT_ENCODING).next().is_none() {
        return Ok(());
    }
    let mut codings = Vec::new();
    for value in request.header_values(&CONTENT_ENCODING) {
        let value = visible_ascii(value).ok_or_else(|| unsupported("(not text)"))?;
        for token in value.split(',').map(str::trim).filter(|token| !token.is_empty()) {
            if token.eq_ignore_ascii_case("identity") {
                continue;
            }
            codings.push(Encoding::from_token(token).ok_or_else(|| unsupported(token))?);
        }
    }
    let mut subject = ctx.subject();
    let Some(mut body) = subject.take_value::<Body>() else { return Ok(()) };
    for encoding in codings.into_iter().rev() {
        body = decode(body, encoding);
    }
    subject.set_value(body);
    Ok(())
}

fn unsupported(token: &str) -> Error {
    Error::unsupported_media_type(format!(
        "the request body's Content-Encoding `{token}` is not supported (gzip, deflate, br, zstd and identity are)"
    ))
}

fn decode(body: Body, encoding: Encoding) -> Body {
    let reader = StreamReader::new(body.into_data_stream().map_err(|error| io::Error::other(BoxError::from(error))));
    match encoding {
        Encoding::Gzip => {
            let mut decoder = GzipDecoder::new(reader);
            decoder.multiple_members(true);
            decoded(ReaderStream::new(decoder))
        }
        Encoding::Deflate => decoded(ReaderStream::new(ZlibDecoder::new(reader))),
        Encoding::Brotli => decoded(ReaderStream::new(BrotliDecoder::new(reader))),
        Encoding::Zstd => decoded(ReaderStream::new(ZstdDecoder::new(reader))),
    }
}

/// The decoded stream as a body: a failure of the underlying body (a size limit, say) keeps its own status, a
/// decoding failure (corrupt data) is a 400.
fn decoded<S>(stream: S) -> Body
where
    S: futures_util::Stream<Item = io::Result<bytes::Bytes>> + Send + 'static,
{
    Body::from_stream(stream.map_err(|error| -> BoxError {
        let kind = error.kind();
        error.into_inner().unwrap_or_else(|| Box::new(io::Error::from(kind)))
    }))
}
