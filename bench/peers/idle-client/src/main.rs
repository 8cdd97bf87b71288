//! The idle-connection phase of `bench/load.sh`: measures how much resident memory a server holds per idle
//! keep-alive connection.
//!
//! `idle-client <host:port> <server pid> [connections]` (10,000 by default):
//! 1. warms the server up with 100 requests on one connection, which it then closes;
//! 2. reads the server's memory (`VmRSS` from `/proc/<pid>/status`, `Pss` from `/proc/<pid>/smaps_rollup`)
//!    and counts its open sockets (`/proc/<pid>/fd`);
//! 3. opens the connections (256 at a time), sends one `GET /plaintext` on each and reads the whole response
//!    (status 200, `Content-Length` bytes of body), keeping each connection open and idle;
//! 4. waits one second, checks every connection is still open (no EOF, no stray bytes) and that the server
//!    holds that many more sockets, then reads its memory again;
//! 5. prints one line of `key=value` pairs and exits, closing everything. It exits with status 1 if a
//!    connection failed or was closed, or the server's socket count does not match.
//!
//! The file descriptor limit must allow the connections: `bench/load.sh` raises `ulimit -n` for the client and
//! the server. All of it runs well inside the servers' shortest idle limit (hyper's 30 s header read timeout,
//! which hyper also applies to an idle keep-alive connection).

use std::io::{self, ErrorKind};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";
const IN_FLIGHT: usize = 256;

/// Reads one whole response from `stream`; the status must be 200 and the length given by `Content-Length`.
async fn read_response(stream: &mut TcpStream) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        buffer.extend_from_slice(&chunk[..read]);
        let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
        let head = std::str::from_utf8(&buffer[..end])
            .map_err(|_| io::Error::new(ErrorKind::InvalidData, "a response head that is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or_default();
        if !status.starts_with("HTTP/1.1 200") {
            return Err(io::Error::new(ErrorKind::InvalidData, format!("unexpected status line {status:?}")));
        }
        let length = lines
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "a response without Content-Length"))?;
        let total = end + 4 + length;
        while buffer.len() < total {
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "the server closed the connection"));
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
        if buffer.len() > total {
            return Err(io::Error::new(ErrorKind::InvalidData, "more bytes than one response"));
        }
        return Ok(());
    }
}

async fn open(address: String) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(&address).await?;
    stream.set_nodelay(true)?;
    stream.write_all(REQUEST).await?;
    read_response(&mut stream).await?;
    Ok(stream)
}

/// `(VmRSS, Pss)` of the process in KiB.
fn memory(pid: u32) -> io::Result<(u64, u64)> {
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, format!("no {name} for pid {pid}")))
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok((field(&status, "VmRSS:")?, field(&rollup, "Pss:")?))
}

/// The number of sockets the process has open.
fn sockets(pid: u32) -> io::Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        if let Ok(target) = std::fs::read_link(entry?.path()) {
            count += usize::from(target.to_string_lossy().starts_with("socket:"));
        }
    }
    Ok(count)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("idle-client: {message}");
    ExitCode::FAILURE
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (Some(address), Some(pid)) = (arguments.first(), arguments.get(1).and_then(|pid| pid.parse::<u32>().ok()))
    else {
        return fail("usage: idle-client <host:port> <server pid> [connections]");
    };
    let connections: usize = arguments.get(2).and_then(|count| count.parse().ok()).unwrap_or(10_000);

    // Warm-up: the server's first connections and calls allocate what every later call reuses.
    match TcpStream::connect(address).await {
        Ok(mut stream) => {
            for _ in 0..100 {
                if let Err(error) = async {
                    stream.write_all(REQUEST).await?;
                    read_response(&mut stream).await
                }
                .await
                {
                    return fail(format!("warm-up request: {error}"));
                }
            }
        }
        Err(error) => return fail(format!("cannot connect to {address}: {error}")),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (Ok((rss_before, pss_before)), Ok(sockets_before)) = (memory(pid), sockets(pid)) else {
        return fail(format!("cannot read /proc/{pid}: is the server running?"));
    };

    let started = Instant::now();
    let mut streams = Vec::with_capacity(connections);
    let mut tasks = JoinSet::new();
    let mut launched = 0;
    let mut errors = 0usize;
    let mut first_error = None;
    while streams.len() + errors < connections {
        while launched < connections && tasks.len() < IN_FLIGHT {
            tasks.spawn(open(address.clone()));
            launched += 1;
        }
        match tasks.join_next().await {
            Some(Ok(Ok(stream))) => streams.push(stream),
            Some(Ok(Err(error))) => {
                errors += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
            Some(Err(error)) => {
                errors += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
            None => break,
        }
    }
    let open_time = started.elapsed();
    if errors > 0 {
        return fail(format!(
            "{errors} of {connections} connections failed (first: {}); raise `ulimit -n`?",
            first_error.unwrap_or_default()
        ));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let (Ok((rss_after, pss_after)), Ok(sockets_after)) = (memory(pid), sockets(pid)) else {
        return fail(format!("cannot read /proc/{pid} after opening: did the server die?"));
    };
    // Still open: a read would block (no EOF, nothing unexpected sent).
    let mut buffer = [0u8; 64];
    let still_open = streams
        .iter()
        .filter(|stream| matches!(stream.try_read(&mut buffer), Err(error) if error.kind() == ErrorKind::WouldBlock))
        .count();
    let server_sockets = sockets_after.saturating_sub(sockets_before);
    let per_connection = |before: u64, after: u64| (after as f64 - before as f64) * 1024.0 / connections as f64;
    println!(
        "connections={connections} open_seconds={:.2} still_open={still_open} server_sockets_added={server_sockets} \
         rss_before_kib={rss_before} rss_after_kib={rss_after} pss_before_kib={pss_before} pss_after_kib={pss_after} \
         rss_bytes_per_connection={:.0} pss_bytes_per_connection={:.0}",
        open_time.as_secs_f64(),
        per_connection(rss_before, rss_after),
        per_connection(pss_before, pss_after),
    );
    if still_open != connections {
        return fail(format!("only {still_open} of {connections} connections are still open"));
    }
    if server_sockets < connections {
        return fail(format!("the server holds {server_sockets} more sockets, expected at least {connections}"));
    }
    ExitCode::SUCCESS
}
