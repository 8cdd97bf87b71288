//! Helpers for the socket tests: start an application on an HTTP engine (the one `ROTOR_TEST_ENGINE` names:
//! `hyper`, the default, or `cio`), talk raw HTTP to it.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rotor::Application;
use rotor::engine::{ApplicationEngine, ConnectorSettings, EngineSettings, ProtocolLimits};
use rotor::environment::ApplicationEnvironment;
use rotor_tests::{EngineKind, TestEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running server on 127.0.0.1 with a port the system chose.
pub struct TestServer {
    pub engine: TestEngine,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Stops the server with the given grace period and timeout.
    pub async fn stop(mut self, grace: Duration, timeout: Duration) {
        self.engine.stop(grace, timeout).await;
    }
}

/// Starts `module` with `limits`.
pub async fn start_with(module: impl FnOnce(&mut Application), limits: ProtocolLimits) -> TestServer {
    start_configured(module, |settings| settings.limits = limits).await
}

/// Starts `module` on the engine `ROTOR_TEST_ENGINE` chooses, with the default settings changed by `configure`.
pub async fn start_configured(
    module: impl FnOnce(&mut Application),
    configure: impl FnOnce(&mut EngineSettings),
) -> TestServer {
    start_on(EngineKind::from_env(), module, configure).await
}

/// Starts `module` on an engine of `kind`, with the default settings changed by `configure` (for a test of what
/// one engine alone does).
pub async fn start_on(
    kind: EngineKind,
    module: impl FnOnce(&mut Application),
    configure: impl FnOnce(&mut EngineSettings),
) -> TestServer {
    let mut application = Application::new(ApplicationEnvironment::default());
    module(&mut application);
    let mut settings = EngineSettings::new(vec![ConnectorSettings { host: "127.0.0.1".into(), port: 0, tls: None }]);
    configure(&mut settings);
    let mut engine = TestEngine::new(kind);
    let connectors = engine.start(Arc::new(application), &settings).await.expect("the server starts");
    TestServer { engine, addr: connectors[0].local_addr() }
}

/// Starts `module` with the default limits.
pub async fn start(module: impl FnOnce(&mut Application)) -> TestServer {
    start_with(module, ProtocolLimits::default()).await
}

/// The hello module plus `POST /upload`, which reads the whole body before answering `<n> bytes` (so a body
/// limit or timeout is answered with its own status, not cut into a response already under way).
pub fn upload_module(app: &mut Application) {
    hello::module(app);
    app.intercept(&rotor::application::ApplicationCallPipeline::CALL, |ctx| async move {
        let call = ctx.call();
        if call.is_handled() || call.request().path() != "/upload" {
            return Ok(());
        }
        let body = call.receive_bytes().await?;
        call.respond_text(format!("{} bytes", body.len())).await
    });
}

/// A raw HTTP/1 response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A connection that speaks raw HTTP/1 bytes, for requests no well-behaved client would send.
pub struct RawConnection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// How long a test waits for the server before it fails (never a hang).
pub const PATIENCE: Duration = Duration::from_secs(10);

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect to the test server");
        stream.set_nodelay(true).expect("nodelay");
        RawConnection { stream, buffer: Vec::new() }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write to the test server");
    }

    /// Ends the sending side (the server reads the end of the stream after what was sent).
    pub async fn finish(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Writes, tolerating a server that already closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 8192];
        let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk))
            .await
            .expect("the server answers in time")
            .unwrap_or(0);
        self.buffer.extend_from_slice(&chunk[..read]);
        read
    }

    /// Reads one response; `None` if the server closed the connection before a full response head.
    pub async fn read_response(&mut self) -> Option<RawResponse> {
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end;
            }
            if self.fill().await == 0 {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).into_owned();
        self.buffer.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?;
        let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let mut response = RawResponse { status, headers, body: Vec::new() };
        if status == 100 || status == 204 || status == 304 {
            return Some(response);
        }
        if let Some(length) = response.header("content-length").and_then(|value| value.parse::<usize>().ok()) {
            while self.buffer.len() < length {
                if self.fill().await == 0 {
                    return None;
                }
            }
            response.body = self.buffer.drain(..length).collect();
        } else if response.header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
            response.body = self.read_chunked().await?;
        }
        Some(response)
    }

    async fn read_chunked(&mut self) -> Option<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buffer, b"\r\n") {
                    break end;
                }
                if self.fill().await == 0 {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&self.buffer[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            self.buffer.drain(..line_end + 2);
            while self.buffer.len() < size + 2 {
                if self.fill().await == 0 {
                    return None;
                }
            }
            body.extend(self.buffer.drain(..size));
            self.buffer.drain(..2);
            if size == 0 {
                return Some(body);
            }
        }
    }

    /// True once the server has closed the connection (reads return end of file), waiting up to `PATIENCE`.
    pub async fn is_closed_by_server(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(read)) => self.buffer.extend_from_slice(&chunk[..read]),
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Sends one request on a new connection and reads the response.
pub async fn request(addr: SocketAddr, raw: &str) -> Option<RawResponse> {
    let mut connection = RawConnection::open(addr).await;
    connection.send(raw.as_bytes()).await;
    connection.read_response().await
}

/// Sends `HEAD head_path` then `GET get_path` pipelined on one connection (closed after the GET) and returns the
/// HEAD response's head, lowercased, every line of it ending in CRLF (so that a field can be matched as
/// `"name: value\r\n"` wherever it comes), and everything after it: if the HEAD answer carried body bytes, the
/// rest would not start with the GET's status line.
pub async fn head_then_get(addr: SocketAddr, head_path: &str, get_path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let requests = format!(
        "HEAD {head_path} HTTP/1.1\r\nhost: t\r\n\r\nGET {get_path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).await.expect("sends");
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await.expect("in time").expect("reads");
    let text = String::from_utf8(received).expect("text");
    let (head, rest) = text.split_once("\r\n\r\n").expect("a HEAD response");
    (format!("{}\r\n", head.to_ascii_lowercase()), rest.to_owned())
}

/// A `GET /` that must be answered 200: the server still serves clients.
pub async fn still_serves(addr: SocketAddr) {
    let response = request(addr, "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .expect("the server still answers a well-formed request");
    assert_eq!(response.status, 200, "the server still serves the next client");
}
