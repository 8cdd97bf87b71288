//! StatusPages over a real socket: custom 404/405/error pages keep `Allow` and get their own body length.

mod support;

use rotor::plugins::status_pages::StatusPages;
use rotor::prelude::*;
use support::{request, start, still_serves};

fn module(app: &mut Application) {
    app.install_with(StatusPages, |config| {
        config
            .status(StatusCode::NOT_FOUND, |call, status| async move {
                call.respond_with_status(status, "custom not found").await
            })
            .status(StatusCode::METHOD_NOT_ALLOWED, |call, status| async move {
                call.respond_with_status(status, "custom 405").await
            })
            .error(
                |_| true,
                |call, _error| async move { call.respond_with_status(StatusCode::SERVICE_UNAVAILABLE, "down").await },
            );
    });
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("home").await });
        r.post("/form", |call: ApplicationCall| async move { call.respond_text("posted").await });
        r.get("/fail", |_call: ApplicationCall| async move { Err(Error::internal("boom")) });
    });
}

#[tokio::test]
async fn custom_pages_reach_the_wire() {
    let server = start(module).await;
    let missing = request(server.addr, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), "custom not found");
    assert_eq!(missing.header("content-length"), Some("16"));

    let wrong = request(server.addr, "GET /form HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST"));
    assert_eq!(wrong.text(), "custom 405");

    let failed = request(server.addr, "GET /fail HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(failed.status, 503);
    assert_eq!(failed.text(), "down");
    still_serves(server.addr).await;
}
