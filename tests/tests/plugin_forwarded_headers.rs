//! ForwardedHeaders over a real socket: the loopback peer is a trusted proxy; a malformed header is ignored.

mod support;

use rotor::plugins::forwarded_headers::{ForwardedHeaders, origin};
use rotor::prelude::*;
use support::{request, start};

fn module(app: &mut Application) {
    app.install(ForwardedHeaders, Default::default());
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move {
            let origin = origin(&call);
            call.respond_text(format!("{}://{} {}", origin.scheme, origin.host, origin.remote_host)).await
        });
    });
}

#[tokio::test]
async fn forwarded_headers_from_the_loopback_proxy_are_read_and_malformed_ones_ignored() {
    let server = start(module).await;
    let forwarded = request(
        server.addr,
        "GET / HTTP/1.1\r\nHost: inner\r\nForwarded: for=192.0.2.60;proto=https;host=shop.example\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(forwarded.text(), "https://shop.example 192.0.2.60");

    let malformed = request(
        server.addr,
        "GET / HTTP/1.1\r\nHost: inner\r\nForwarded: for=\"unterminated;proto=https\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(malformed.status, 200);
    assert_eq!(malformed.text(), "http://inner 127.0.0.1");
}
