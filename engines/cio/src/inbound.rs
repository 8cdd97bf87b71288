//! The read side of a connection: the socket's read half and the one buffer requests are parsed from.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::net::tcp::OwnedReadHalf;

/// What a read asks for at least: below this much room the buffer grows (or is reclaimed) first.
const MIN_READ: usize = 1024;
/// The read buffer's size: a whole typical request head, or a batch of pipelined ones.
pub(crate) const BUFFER: usize = 8192;

/// The socket's read half and the bytes read from it but not yet consumed. It moves into a request body while
/// the call reads that body, and comes back when the body ends.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) stream: OwnedReadHalf,
    pub(crate) buffer: BytesMut,
}

impl Inbound {
    pub(crate) fn new(stream: OwnedReadHalf) -> Inbound {
        Inbound { stream, buffer: BytesMut::with_capacity(BUFFER) }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buffer.capacity() - self.buffer.len() < MIN_READ {
            // Reclaims the allocation when the parts split off it are gone, else allocates anew.
            self.buffer.reserve(BUFFER);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buffer)
    }
}
