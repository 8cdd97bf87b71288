//! The prototype's wire code with hyper-server's hand-written handler and no framework: what the prototype
//! engine costs by itself, so that `rotor-h1-prototype` minus this is what Rotor's framework costs on it (see
//! bench/README.md, "An engine of Rotor's own (prototype)"). The same answers as hyper-server: `Server: hyper`
//! and `Content-Type` inserted into the response's header map, `Date` and `Content-Length` written by the
//! encoder, JSON serialized per request.
//!
//! `PORT=0 h1-bare-server` binds 127.0.0.1 on a free port and prints `listening on 127.0.0.1:<port>`.

#[path = "../date.rs"]
mod date;
#[path = "../wire.rs"]
mod wire;

use std::io::Write;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, SERVER};
use http::{Request, Response, StatusCode};
use serde::Serialize;
use tokio::net::TcpListener;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

static SERVER_NAME: HeaderValue = HeaderValue::from_static("hyper");

struct Handler;

impl wire::Responder for Handler {
    async fn respond(&mut self, request: Request<()>) -> Option<(http::response::Parts, Bytes)> {
        let (body, content_type) = match request.uri().path() {
            "/plaintext" => (Bytes::from_static(b"Hello, World!"), "text/plain; charset=utf-8"),
            "/json" => {
                let json = serde_json::to_vec(&Message { message: "Hello, World!" }).ok()?;
                (Bytes::from(json), "application/json")
            }
            _ => {
                let mut response = Response::new(Bytes::new());
                *response.status_mut() = StatusCode::NOT_FOUND;
                response.headers_mut().insert(SERVER, SERVER_NAME.clone());
                return Some(response.into_parts());
            }
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(SERVER, SERVER_NAME.clone());
        Some(response.into_parts())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {address}")?;
    stdout.flush()?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept: {error}");
                continue;
            }
        };
        tokio::spawn(wire::serve(stream, Handler));
    }
}
