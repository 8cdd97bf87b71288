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
        rewind(&mut self.buffer);
        if self.buffer.capacity() - self.buffer.len() < MIN_READ {
            // Reclaims the allocation when the parts split off it are gone, else allocates anew.
            self.buffer.reserve(BUFFER);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buffer)
    }
}

/// Once every byte read into `buffer` is consumed and nothing split off it is alive any more (the heads of the
/// requests answered), makes the next read land at its start again, without an allocation; otherwise does
/// nothing. Each batch of requests then lands on the same few cache lines rather than on the next ones of a walk
/// through the whole buffer, which over hundreds of connections does not stay in cache: the kernel's copy into
/// it and the parse of it missed (bench/README.md, "A/B runs": about 4 % to 12 % less kernel time per pipelined
/// request).
fn rewind(buffer: &mut BytesMut) {
    if buffer.is_empty() {
        // False, and nothing done, while a part split off is alive: the next read goes where the buffer is.
        let _ = buffer.try_reclaim(BUFFER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumed_buffer_is_read_from_its_start_once_nothing_split_off_it_is_alive() {
        let mut buffer = BytesMut::with_capacity(BUFFER);
        let start = buffer.as_ptr();
        buffer.extend_from_slice(&[b'x'; 1136]);
        let head = buffer.split_to(1136).freeze();
        rewind(&mut buffer);
        assert_eq!(buffer.capacity(), BUFFER - 1136, "the head is alive: the buffer stays where it is");
        assert_eq!(buffer.as_ptr(), start.wrapping_add(1136));
        drop(head);
        buffer.extend_from_slice(b"GET");
        rewind(&mut buffer);
        assert_eq!(buffer.capacity(), BUFFER - 1136, "bytes not yet consumed stay where they are");
        let _ = buffer.split_to(3);
        rewind(&mut buffer);
        assert_eq!(buffer.capacity(), BUFFER, "consumed and nothing alive: back to the start");
        assert_eq!(buffer.as_ptr(), start, "in the same allocation");
    }
}
