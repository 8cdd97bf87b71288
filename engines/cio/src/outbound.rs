//! The write side of a connection: the socket's write half and the one buffer answers are encoded into.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;

use crate::inbound::BUFFER;

/// Above this many buffered bytes a write goes out before more is encoded.
pub(crate) const FLUSH_AT: usize = 64 * 1024;

/// The socket's write half and the answers encoded but not yet written: the answers to pipelined requests go
/// out together, in one write.
///
/// A write that cannot go out at once (the client is not reading) may wait at most `stall` for the client to
/// take more bytes: a timer is armed only then, never on the usual path.
#[derive(Debug)]
pub(crate) struct Outbound {
    stream: OwnedWriteHalf,
    pub(crate) buffer: Vec<u8>,
    stall: Option<Duration>,
}

impl Outbound {
    pub(crate) fn new(stream: OwnedWriteHalf, stall: Option<Duration>) -> Outbound {
        Outbound { stream, buffer: Vec::with_capacity(BUFFER), stall }
    }

    /// Writes what is buffered.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            write_all(&mut self.stream, &self.buffer, self.stall).await?;
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
        write_all(&mut self.stream, bytes, self.stall).await
    }

    /// Ends the connection's sending side after what is buffered.
    pub(crate) async fn shutdown(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.stream.shutdown().await
    }
}

/// Writes `bytes`: straight away while the socket takes them, then, if it stops taking them, within `stall`.
async fn write_all(stream: &mut OwnedWriteHalf, mut bytes: &[u8], stall: Option<Duration>) -> io::Result<()> {
    while !bytes.is_empty() {
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) => return Err(error),
        }
    }
    if bytes.is_empty() {
        return Ok(());
    }
    let Some(stall) = stall else { return stream.write_all(bytes).await };
    // Each write may wait `stall` for the client to read: a slow reader is served, one that stopped is let go.
    while !bytes.is_empty() {
        match tokio::time::timeout(stall, stream.write(bytes)).await {
            Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(Ok(written)) => bytes = &bytes[written..],
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client read nothing of the answer within the idle timeout",
                ));
            }
        }
    }
    Ok(())
}
