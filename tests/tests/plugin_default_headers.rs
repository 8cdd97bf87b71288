//! DefaultHeaders over a real socket: one `Date` (the plugin's, or the engine's when the clock is the system's),
//! one `Server` and one `Content-Length` on the wire.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rotor::plugins::default_headers::{DEFAULT_SERVER, DefaultHeaders};
use rotor::prelude::*;
use support::{head_then_get, request, start};

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

fn system_clock_module(app: &mut Application) {
    app.install(DefaultHeaders, Default::default());
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("Hello, World!").await });
        r.head("/head", |call: ApplicationCall| async move { call.respond_text("abc").await });
    });
}

/// The seconds between `date` (an HTTP date) and now.
fn seconds_from_now(date: &str) -> u64 {
    let date = httpdate::parse_http_date(date).unwrap_or_else(|error| panic!("{date:?} is not an HTTP date: {error}"));
    let now = SystemTime::now();
    now.duration_since(date).or_else(|_| date.duration_since(now)).map(|gap| gap.as_secs()).unwrap_or(u64::MAX)
}

#[tokio::test]
async fn with_the_system_clock_date_and_content_length_reach_the_wire_once() {
    // The engine writes `Date` and `Content-Length` itself here (DefaultHeaders leaves `Date` to it, the response
    // leaves the length to it): each still appears exactly once, with the right value.
    let server = start(system_clock_module).await;
    let response = request(server.addr, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(count(&response, "date"), 1, "{:?}", response.headers);
    assert!(seconds_from_now(response.header("date").unwrap()) <= 2, "{:?}", response.header("date"));
    assert_eq!(count(&response, "content-length"), 1, "{:?}", response.headers);
    assert_eq!(response.header("content-length"), Some("13"));
    assert_eq!(response.text(), "Hello, World!");
    assert_eq!(count(&response, "server"), 1);

    let missing = request(server.addr, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(missing.status, 404);
    assert_eq!(count(&missing, "date"), 1, "{:?}", missing.headers);
    assert_eq!(count(&missing, "content-length"), 1, "{:?}", missing.headers);
}

#[tokio::test]
async fn a_head_route_keeps_its_content_length_and_sends_no_body() {
    let server = start(system_clock_module).await;
    let (head, rest) = head_then_get(server.addr, "/head", "/").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(head.matches("content-length: 3\r\n").count(), 1, "{head}");
    assert_eq!(head.matches("\r\ndate: ").count(), 1, "{head}");
    assert!(rest.starts_with("HTTP/1.1 200"), "the HEAD response had a body: {rest:?}");
}

fn values<'a>(response: &'a support::RawResponse, name: &str) -> Vec<&'a str> {
    response.headers.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
}

/// Every rule of which field wins, on the wire: the engine under test decides how the defaults get there
/// (rotor-cio writes them from the plugin's list, rotor-hyper from the response's header map).
#[tokio::test]
async fn the_response_and_its_content_win_over_defaults_on_the_wire() {
    let server = start(|app| {
        app.install_with(DefaultHeaders, |config| {
            config
                .header("x-frame-options", "DENY")
                .header("x-many", "one")
                .header("x-many", "two")
                .header("content-type", "application/x-default");
        });
        app.routing(|r| {
            r.get("/text", |call: ApplicationCall| async move { call.respond_text("t").await });
            r.get("/bytes", |call: ApplicationCall| async move {
                call.respond(OutgoingContent::new(Body::from("b"), None)).await
            });
            r.get("/content-header", |call: ApplicationCall| async move {
                call.respond(OutgoingContent::text("c").with_header(
                    rotor::http::HeaderName::from_static("x-frame-options"),
                    HeaderValue::from_static("SAMEORIGIN"),
                ))
                .await
            });
            r.route("/api", |r| {
                r.install_with(DefaultHeaders, |config| {
                    config.server("Route/1").header("x-route", "yes");
                });
                r.get("/x", |call: ApplicationCall| async move { call.respond_text("x").await });
            });
        });
    })
    .await;
    let get = |path: &'static str| async move {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        request(server.addr, &raw).await.expect("an answer")
    };

    let text = get("/text").await;
    assert_eq!(values(&text, "content-type"), ["text/plain; charset=utf-8"], "the content's type wins");
    assert_eq!(values(&text, "x-many"), ["one", "two"], "every value of a default");
    assert_eq!(values(&text, "server"), [DEFAULT_SERVER]);
    let bytes = get("/bytes").await;
    assert_eq!(values(&bytes, "content-type"), ["application/x-default"], "a default type where the content has none");
    let own = get("/content-header").await;
    assert_eq!(values(&own, "x-frame-options"), ["SAMEORIGIN"], "the content's own field wins");
    let routed = get("/api/x").await;
    assert_eq!(values(&routed, "server"), [DEFAULT_SERVER], "the application's install runs first and wins");
    assert_eq!(values(&routed, "x-route"), ["yes"], "the route's adds what the application's has not");
    assert_eq!(values(&routed, "x-frame-options"), ["DENY"]);
}

/// Over 64 names DefaultHeaders inserts them as it always did; every one reaches the wire once.
#[tokio::test]
async fn many_default_names_all_reach_the_wire() {
    let server = start(|app| {
        app.install_with(DefaultHeaders, |config| {
            for index in 0..70 {
                config.header(format!("x-default-{index}"), index.to_string());
            }
        });
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
        });
    })
    .await;
    let response = request(server.addr, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    for index in 0..70 {
        assert_eq!(values(&response, &format!("x-default-{index}")), [index.to_string()], "{index}");
    }
    assert_eq!(values(&response, "server"), [DEFAULT_SERVER]);
}
