//! The write side of a connection: the socket's write half and the one buffer answers are encoded into.

use std::io;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;

use crate::inbound::BUFFER;

/// Above this many buffered bytes a write goes out before more is encoded.
pub(crate) const FLUSH_AT: usize = 64 * 1024;

/// The socket's write half and the answers encoded but not yet written: the answers to pipelined requests go
/// out together, in one write.
#[derive(Debug)]
pub(crate) struct Outbound {
    stream: OwnedWriteHalf,
    pub(crate) buffer: Vec<u8>,
}

impl Outbound {
    pub(crate) fn new(stream: OwnedWriteHalf) -> Outbound {
        Outbound { stream, buffer: Vec::with_capacity(BUFFER) }
    }

    /// Writes what is buffered.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.stream.write_all(&self.buffer).await?;
            self.buffer.clear();
            if self.buffer.capacity() > 2 * FLUSH_AT {
                // One large answer does not keep a large buffer for the connection's life.
                self.buffer = Vec::with_capacity(BUFFER);
            }
        }
        Ok(())
    }

    /// Writes what is buffered, then `bytes` (a large body, not copied into the buffer).
    pub(crate) async fn write_through(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush().await?;
        self.stream.write_all(bytes).await
    }

    /// Ends the connection's sending side after what is buffered.
    pub(crate) async fn shutdown(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.stream.shutdown().await
    }
}
