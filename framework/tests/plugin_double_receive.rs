//! DoubleReceive: the body received more than once, as different types.

use bytes::Bytes;
use rotor::plugins::double_receive::{DoubleReceive, received_bytes};
use rotor::plugins::request_body_limit::{RequestBodyLimit, RequestBodyLimitConfig};
use rotor::prelude::*;
use rotor_test::test_application;

fn echo_twice(app: &mut Application) {
    app.routing(|r| {
        r.post("/", |call: ApplicationCall| async move {
            let first = call.receive_text().await?;
            let second: Vec<u8> = call.receive().await?;
            let third = call.receive::<Body>().await?.collect().await?;
            call.respond_text(format!("{first}|{}|{}", second.len(), third.len())).await
        });
    });
}

#[tokio::test]
async fn the_body_can_be_received_as_several_types() {
    let app = test_application(|app| {
        app.install(DoubleReceive, ());
        echo_twice(app);
    })
    .await;
    let chunks = ["hel", "lo"].map(|chunk| Ok::<_, std::io::Error>(Bytes::from(chunk)));
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let res = app.client().post("/").body(body).send().await;
    assert_eq!(res.status(), 200, "{:?}", res.error());
    assert_eq!(res.text().await, "hello|5|5");
}

#[tokio::test]
async fn without_the_plugin_a_second_receive_fails() {
    let app = test_application(echo_twice).await;
    let res = app.client().post("/").text("hello").send().await;
    assert_eq!(res.status(), 500);
    assert!(res.error().unwrap().message().contains("DoubleReceive"));
}

#[tokio::test]
async fn an_empty_body_is_received_twice_as_empty() {
    let app = test_application(|app| {
        app.install(DoubleReceive, ());
        echo_twice(app);
    })
    .await;
    assert_eq!(app.client().post("/").send().await.text().await, "|0|0");
}

#[tokio::test]
async fn the_cache_is_visible_and_take_body_yields_it_after_a_receive() {
    let app = test_application(|app| {
        app.install(DoubleReceive, ());
        app.routing(|r| {
            r.post("/", |call: ApplicationCall| async move {
                assert_eq!(received_bytes(&call), None);
                let bytes = call.receive_bytes().await?;
                assert_eq!(received_bytes(&call), Some(bytes.clone()));
                let raw = call.take_body()?.collect().await?;
                call.respond_text(format!("{}", raw == bytes)).await
            });
        });
    })
    .await;
    assert_eq!(app.client().post("/").text("abc").send().await.text().await, "true");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_cached() {
    let app = test_application(|app| {
        app.install(DoubleReceive, ());
        app.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(4));
        echo_twice(app);
    })
    .await;
    let chunks = ["hel", "lo"].map(|chunk| Ok::<_, std::io::Error>(Bytes::from(chunk)));
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    assert_eq!(app.client().post("/").body(body).send().await.status(), 413);
    assert_eq!(app.client().post("/").text("abc").send().await.text().await, "abc|3|3");
}
