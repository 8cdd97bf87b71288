//! axum 0.8, written the idiomatic way: a `Router` with two `get` routes, `Json` for the JSON body, the
//! `Server` header from tower-http's `SetResponseHeaderLayer` (as TechEmpower's axum entry does), served by
//! `axum::serve` (hyper-util's auto builder, one task per connection; hyper adds `Date`). TCP_NODELAY through
//! `ListenerExt::tap_io`.
//!
//! `PORT=0 axum-server` binds 127.0.0.1 on a free port and prints `listening on 127.0.0.1:<port>`.

use std::io::Write;

use axum::Json;
use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::SERVER;
use axum::routing::get;
use axum::serve::ListenerExt;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn json() -> Json<Message> {
    Json(Message { message: "Hello, World!" })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(8080);
    let app = Router::new()
        .route("/plaintext", get(plaintext))
        .route("/json", get(json))
        .layer(SetResponseHeaderLayer::overriding(SERVER, HeaderValue::from_static("axum")));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {address}")?;
    stdout.flush()?;
    axum::serve(listener, app).await
}
