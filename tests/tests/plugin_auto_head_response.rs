//! AutoHeadResponse over HTTP/1.1: HEAD gets the GET's headers and no body, and the connection goes on.

mod support;

use rotor::plugins::auto_head_response::AutoHeadResponse;
use rotor::prelude::*;
use support::{RawConnection, head_then_get, start};

fn module(app: &mut Application) {
    app.install(AutoHeadResponse, ());
    app.routing(|r| {
        r.get("/text", |call: ApplicationCall| async move {
            call.response().set_header("x-custom", "yes")?;
            call.respond_text("Hello, world").await
        });
    });
}

#[tokio::test]
async fn head_has_the_headers_and_no_body() {
    let server = start(module).await;
    let (head, rest) = head_then_get(server.addr, "/text", "/text").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 12"), "{head}");
    assert!(head.contains("content-type: text/plain; charset=utf-8"), "{head}");
    assert!(head.contains("x-custom: yes"), "{head}");
    assert!(rest.starts_with("HTTP/1.1 200"), "the HEAD response had a body: {rest:?}");
    assert!(rest.ends_with("\r\n\r\nHello, world"), "{rest:?}");
}

#[tokio::test]
async fn get_is_unchanged() {
    let server = start(module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET /text HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let response = connection.read_response().await.expect("a response");
    assert_eq!(response.text(), "Hello, world");
}
