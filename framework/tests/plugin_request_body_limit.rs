//! RequestBodyLimit: 413 for declared and streamed bodies over the limit, per application and per route.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use rotor::plugins::request_body_limit::{RequestBodyLimit, RequestBodyLimitConfig};
use rotor::prelude::*;
use rotor_test::test_application;

fn chunks(parts: &'static [&'static str]) -> Body {
    let chunks = parts.iter().map(|chunk| Ok::<_, std::io::Error>(Bytes::from_static(chunk.as_bytes())));
    Body::from_stream(futures_util::stream::iter(chunks))
}

fn upload(r: &mut Route) {
    r.post("/upload", |call: ApplicationCall| async move {
        let body = call.receive_bytes().await?;
        call.respond_text(format!("{} bytes", body.len())).await
    });
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_handler_runs() {
    let ran = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&ran);
    let app = test_application(move |app| {
        app.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(10));
        app.routing(move |r| {
            r.post("/upload", move |call: ApplicationCall| {
                seen.store(true, Ordering::SeqCst);
                async move { call.respond_text("ran").await }
            });
        });
    })
    .await;
    let res = app.client().post("/upload").header("content-length", "11").body(chunks(&["x"])).send().await;
    assert_eq!(res.status(), 413);
    assert!(res.error().unwrap().message().contains("10 bytes"));
    assert!(!ran.load(Ordering::SeqCst));
    let res = app.client().post("/upload").header("content-length", "10").body("0123456789").send().await;
    assert_eq!(res.text().await, "ran");
}

#[tokio::test]
async fn a_streamed_body_that_grows_past_the_limit_is_refused() {
    let app = test_application(|app| {
        app.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(8));
        app.routing(upload);
    })
    .await;
    assert_eq!(app.client().post("/upload").body(chunks(&["1234", "5678"])).send().await.text().await, "8 bytes");
    let res = app.client().post("/upload").body(chunks(&["1234", "5678", "9"])).send().await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.client().post("/upload").send().await.text().await, "0 bytes");
}

#[tokio::test]
async fn a_route_limit_applies_to_its_routes_only() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/small", |r| {
                r.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(2));
                upload(r);
            });
            upload(r);
        });
    })
    .await;
    assert_eq!(app.client().post("/small/upload").body("abc").send().await.status(), 413);
    assert_eq!(app.client().post("/small/upload").body("ab").send().await.text().await, "2 bytes");
    assert_eq!(app.client().post("/upload").body("abc").send().await.text().await, "3 bytes");
}

#[tokio::test]
async fn the_limit_can_depend_on_the_call() {
    let app = test_application(|app| {
        app.install_with(RequestBodyLimit, |config| {
            config.limit(|call| if call.request().header("x-big").is_some() { u64::MAX } else { 3 });
        });
        app.routing(upload);
    })
    .await;
    assert_eq!(app.client().post("/upload").body(chunks(&["abcd"])).send().await.status(), 413);
    let res = app.client().post("/upload").header("x-big", "1").body(chunks(&["abcd", "efgh"])).send().await;
    assert_eq!(res.text().await, "8 bytes");
}

#[tokio::test]
async fn the_default_limit_is_one_mebibyte() {
    let app = test_application(|app| {
        app.install(RequestBodyLimit, Default::default());
        app.routing(upload);
    })
    .await;
    let res = app.client().post("/upload").body(vec![0u8; 1024 * 1024]).send().await;
    assert_eq!(res.text().await, "1048576 bytes");
    assert_eq!(app.client().post("/upload").body(vec![0u8; 1024 * 1024 + 1]).send().await.status(), 413);
}

#[cfg(feature = "compression")]
#[tokio::test]
async fn installed_after_compression_it_limits_the_decoded_size() {
    use rotor::plugins::compression::Compression;
    // 23 bytes of text, 43 bytes of gzip.
    const GZIP_HELLO: &[u8] = &[
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 72, 206, 207, 45, 40, 74, 45, 46, 78, 77, 81,
        40, 207, 47, 202, 73, 1, 0, 8, 158, 52, 53, 23, 0, 0, 0,
    ];
    let app = test_application(|app| {
        app.install(Compression, Default::default());
        app.install(RequestBodyLimit, RequestBodyLimitConfig::max_bytes(20));
        app.routing(upload);
    })
    .await;
    let gzip =
        || Body::from_stream(futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(GZIP_HELLO))]));
    let res = app.client().post("/upload").header("content-encoding", "gzip").body(gzip()).send().await;
    assert_eq!(res.status(), 413);
    let res = app.client().post("/upload").body(Bytes::from_static(b"short")).send().await;
    assert_eq!(res.text().await, "5 bytes");
}
