//! DefaultHeaders over a real socket: one `Date` (the plugin's) and `Server` on the wire.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use rotor::plugins::default_headers::{DEFAULT_SERVER, DefaultHeaders};
use rotor::prelude::*;
use support::{request, start};

fn module(app: &mut Application) {
    app.install_with(DefaultHeaders, |config| {
        config.clock(|| UNIX_EPOCH + Duration::from_secs(1_000_000_000)).header("x-frame-options", "DENY");
    });
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
        r.get("/own", |call: ApplicationCall| async move {
            call.response().set_header("server", "Handler/1")?;
            call.respond_text("own").await
        });
    });
}

fn count(response: &support::RawResponse, name: &str) -> usize {
    response.headers.iter().filter(|(key, _)| key == name).count()
}

#[tokio::test]
async fn date_and_server_reach_the_wire_once() {
    let server = start(module).await;
    let response = request(server.addr, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(count(&response, "date"), 1, "{:?}", response.headers);
    assert_eq!(response.header("date"), Some("Sun, 09 Sep 2001 01:46:40 GMT"), "the plugin's Date, not the engine's");
    assert_eq!(response.header("server"), Some(DEFAULT_SERVER));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));

    let own = request(server.addr, "GET /own HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(count(&own, "server"), 1);
    assert_eq!(own.header("server"), Some("Handler/1"));

    let missing = request(server.addr, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("server"), Some(DEFAULT_SERVER));
    assert_eq!(count(&missing, "date"), 1);
}
