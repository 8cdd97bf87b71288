//! Raw hyper 1.x, the load comparison's baseline: a hand-written `service_fn`, one task per connection,
//! HTTP/1.1 only with pipeline flush, TCP_NODELAY. hyper adds `Date` itself (formatted once a second).
//!
//! `PORT=0 hyper-server` binds 127.0.0.1 on a free port and prints `listening on 127.0.0.1:<port>`.
//!
//! `HYPER_HEADER_READ_TIMEOUT=off` turns off hyper's header-read timeout (30 s by default once a timer is set,
//! armed for every request), to measure what it costs (bench/README.md, "An engine of Rotor's own"); the load
//! comparison keeps hyper's default.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::TcpListener;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

static SERVER_NAME: HeaderValue = HeaderValue::from_static("hyper");

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (body, content_type) = match request.uri().path() {
        "/plaintext" => (Bytes::from_static(b"Hello, World!"), "text/plain; charset=utf-8"),
        "/json" => {
            let json = serde_json::to_vec(&Message { message: "Hello, World!" }).expect("a struct serializes");
            (Bytes::from(json), "application/json")
        }
        _ => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response.headers_mut().insert(SERVER, SERVER_NAME.clone());
            return Ok(response);
        }
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(SERVER, SERVER_NAME.clone());
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let no_header_read_timeout = std::env::var("HYPER_HEADER_READ_TIMEOUT").is_ok_and(|value| value == "off");
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
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).keep_alive(true).pipeline_flush(true);
            if no_header_read_timeout {
                builder.header_read_timeout(None);
            }
            let _ = builder.serve_connection(TokioIo::new(stream), service_fn(handle)).await;
        });
    }
}
