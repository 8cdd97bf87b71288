//! Compression: responses compressed by Accept-Encoding, request bodies decompressed.

#![cfg(feature = "compression")]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use rotor::plugins::compression::{Compression, CompressionConfig, Encoding};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

const GZIP_HELLO: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 72, 206, 207, 45, 40, 74, 45, 46, 78, 77, 81, 40,
    207, 47, 202, 73, 1, 0, 8, 158, 52, 53, 23, 0, 0, 0,
];
const DEFLATE_HELLO: &[u8] = &[
    120, 156, 203, 72, 205, 201, 201, 215, 81, 72, 73, 77, 203, 73, 44, 73, 77, 81, 40, 207, 47, 202, 73, 1, 0, 85, 68,
    7, 226,
];

fn big_text() -> String {
    (0..200).map(|i| format!("line {i} of a compressible text\n")).collect()
}

fn routes(r: &mut Route) {
    r.get("/big", |call: ApplicationCall| async move { call.respond_text(big_text()).await });
    r.get("/small", |call: ApplicationCall| async move { call.respond_text("tiny").await });
    r.get("/png", |call: ApplicationCall| async move {
        call.respond_bytes(vec![0u8; 4096], HeaderValue::from_static("image/png")).await
    });
    r.get("/encoded", |call: ApplicationCall| async move {
        let content = OutgoingContent::text(big_text())
            .with_header(http::header::CONTENT_ENCODING, HeaderValue::from_static("x-custom"));
        call.respond(content).await
    });
    r.get("/etag", |call: ApplicationCall| async move {
        call.response().append_header("vary", "Origin")?;
        let content =
            OutgoingContent::text(big_text()).with_header(http::header::ETAG, HeaderValue::from_static("\"v1\""));
        call.respond(content).await
    });
    r.get("/stream", |call: ApplicationCall| async move {
        let chunks = (0..100).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("chunk {i};"))));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        call.respond(OutgoingContent::new(body, Some(HeaderValue::from_static("text/plain")))).await
    });
    r.get("/empty", |call: ApplicationCall| async move { call.respond(StatusCode::NO_CONTENT).await });
    r.post("/echo", |call: ApplicationCall| async move {
        let body = call.receive_bytes().await?;
        call.respond_bytes(body, HeaderValue::from_static("application/octet-stream")).await
    });
}

async fn app() -> TestApplication {
    test_application(|app| {
        app.install(Compression, CompressionConfig::default());
        app.routing(routes);
    })
    .await
}

/// Decodes `bytes` in `encoding` through the plugin's own request decompression (checked against fixed vectors
/// in `requests_are_decompressed`).
async fn decode(app: &TestApplication, encoding: &str, bytes: Bytes) -> Bytes {
    let res = app.client().post("/echo").header("content-encoding", encoding).body(bytes).send().await;
    assert_eq!(res.status(), 200, "{:?}", res.error());
    res.bytes().await
}

#[tokio::test]
async fn each_coding_round_trips() {
    let app = app().await;
    for (accept, token) in
        [("gzip", "gzip"), ("deflate", "deflate"), ("br", "br"), ("zstd", "zstd"), ("x-gzip", "gzip")]
    {
        let res = app.client().get("/big").header("accept-encoding", accept).send().await;
        assert_eq!(res.header("content-encoding"), Some(token), "{accept}");
        assert_eq!(res.header("content-length"), None);
        assert_eq!(res.header("vary"), Some("accept-encoding"));
        let compressed = res.bytes().await;
        assert!(compressed.len() < big_text().len() / 3, "{accept}: {} bytes", compressed.len());
        assert_eq!(decode(&app, token, compressed).await, big_text());
    }
}

#[tokio::test]
async fn gzip_output_is_real_gzip() {
    let app = app().await;
    let bytes = app.client().get("/big").header("accept-encoding", "gzip").send().await.bytes().await;
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
}

#[tokio::test]
async fn q_values_wildcards_and_refusals() {
    let app = app().await;
    let encoding = |accept: &'static str| {
        let app = &app;
        async move {
            let res = app.client().get("/big").header("accept-encoding", accept).send().await;
            res.header("content-encoding").map(str::to_owned)
        }
    };
    assert_eq!(encoding("gzip;q=0.5, br;q=0.8").await.as_deref(), Some("br"));
    assert_eq!(encoding("gzip, deflate, br, zstd").await.as_deref(), Some("br"));
    assert_eq!(encoding("gzip;q=1, br;q=0.1").await.as_deref(), Some("gzip"));
    assert_eq!(encoding("*").await.as_deref(), Some("br"));
    assert_eq!(encoding("*, br;q=0, zstd;q=0").await.as_deref(), Some("gzip"));
    assert_eq!(encoding("*;q=0").await, None);
    assert_eq!(encoding("identity").await, None);
    assert_eq!(encoding("identity;q=0").await, None);
    assert_eq!(encoding("compress, unknown").await, None);
    let res = app.client().get("/big").send().await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.header("vary"), Some("accept-encoding"));
    assert_eq!(res.header("content-length"), Some(big_text().len().to_string().as_str()));
}

#[tokio::test]
async fn the_configured_order_breaks_ties() {
    let app = test_application(|app| {
        app.install_with(Compression, |config| {
            config.encodings([Encoding::Gzip, Encoding::Brotli]);
        });
        app.routing(routes);
    })
    .await;
    let res = app.client().get("/big").header("accept-encoding", "br, gzip, zstd").send().await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    let res = app.client().get("/big").header("accept-encoding", "zstd").send().await;
    assert_eq!(res.header("content-encoding"), None);
}

#[tokio::test]
async fn small_bodies_images_and_bodiless_responses_are_left_alone() {
    let app = app().await;
    let res = app.client().get("/small").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.text().await, "tiny");
    let res = app.client().get("/png").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), None);
    assert_eq!(res.header("vary"), None);
    assert_eq!(res.bytes().await.len(), 4096);
    let res = app.client().get("/empty").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("content-encoding"), None);
}

#[tokio::test]
async fn an_already_encoded_response_is_not_encoded_again() {
    let app = app().await;
    let res = app.client().get("/encoded").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), Some("x-custom"));
    assert_eq!(res.text().await, big_text());
}

#[tokio::test]
async fn etags_weaken_and_vary_keeps_what_was_there() {
    let app = app().await;
    let res = app.client().get("/etag").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("etag"), Some("W/\"v1\""));
    assert_eq!(res.header("vary"), Some("Origin, accept-encoding"));
}

#[tokio::test]
async fn streams_of_unknown_length_are_compressed() {
    let app = app().await;
    let res = app.client().get("/stream").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    let expected: String = (0..100).map(|i| format!("chunk {i};")).collect();
    assert_eq!(decode(&app, "gzip", res.bytes().await).await, expected);
}

#[tokio::test]
async fn an_endless_stream_yields_compressed_bytes_as_it_goes() {
    let app = test_application(|app| {
        app.install(Compression, CompressionConfig::default());
        app.routing(|r| {
            r.get("/events", |call: ApplicationCall| async move {
                let events = futures_util::stream::unfold(0u64, |i| async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from(format!("data: {i}\n\n"))), i + 1))
                });
                let body = Body::from_stream(events);
                call.respond(OutgoingContent::new(body, Some(HeaderValue::from_static("text/event-stream")))).await
            });
        });
    })
    .await;
    let res = app.client().get("/events").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    let mut body = res.into_body();
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.expect("output before the end");
    let first = first.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&first[..2], &[0x1f, 0x8b]);
    let second = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.expect("more output");
    assert!(!second.unwrap().unwrap().into_data().unwrap().is_empty());
}

#[tokio::test]
async fn requests_are_decompressed() {
    let app = app().await;
    assert_eq!(decode(&app, "gzip", Bytes::from_static(GZIP_HELLO)).await, "hello, compressed world");
    assert_eq!(decode(&app, "deflate", Bytes::from_static(DEFLATE_HELLO)).await, "hello, deflated world");
    assert_eq!(decode(&app, "identity", Bytes::from_static(b"plain")).await, "plain");
    let res = app.client().post("/echo").header("content-encoding", "compress").body("x").send().await;
    assert_eq!(res.status(), 415);
    let res = app.client().post("/echo").header("content-encoding", "gzip").body("not gzip at all").send().await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn conditions_and_extra_content_types() {
    let app = test_application(|app| {
        app.install_with(Compression, |config| {
            config.min_size(0).content_type("image/png").exclude_content_type("text/*");
            config.condition(|call, _| call.request().header("x-no-compress").is_none());
        });
        app.routing(routes);
    })
    .await;
    let res = app.client().get("/png").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    let res = app.client().get("/small").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.header("content-encoding"), None);
    let res = app.client().get("/png").header("accept-encoding", "gzip").header("x-no-compress", "1").send().await;
    assert_eq!(res.header("content-encoding"), None);
}

#[tokio::test]
async fn a_large_whole_body_is_compressed_in_pieces() {
    let large: String = (0..40_000).map(|i| format!("{i:08}\n")).collect();
    let expected = large.clone();
    let app = test_application(move |app| {
        app.install(Compression, CompressionConfig::default());
        app.routing(move |r| {
            r.get("/large", move |call: ApplicationCall| {
                let large = large.clone();
                async move { call.respond_text(large).await }
            });
            routes(r);
        });
    })
    .await;
    let res = app.client().get("/large").header("accept-encoding", "gzip").send().await;
    let mut body = res.into_body();
    let mut frames = 0;
    let mut compressed = Vec::new();
    while let Some(frame) = body.frame().await {
        compressed.extend_from_slice(&frame.unwrap().into_data().unwrap());
        frames += 1;
    }
    assert!(frames > 1, "{frames} frame(s) for {} bytes of input", expected.len());
    assert_eq!(decode(&app, "gzip", Bytes::from(compressed)).await, expected);
}
