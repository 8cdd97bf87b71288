//! PartialContent: single and multiple ranges, If-Range, 416, eligibility, in-memory and streamed bodies.

use bytes::Bytes;
use rotor::call::{Body, OutgoingContent};
use rotor::http::HeaderValue;
use rotor::http::header::{ETAG, LAST_MODIFIED};
use rotor::plugins::conditional_headers::ConditionalHeaders;
use rotor::plugins::partial_content::{PartialContent, PartialContentConfig, known_length};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

const DIGITS: &str = "0123456789";
const MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn tagged() -> OutgoingContent {
    OutgoingContent::text(DIGITS)
        .with_header(ETAG, HeaderValue::from_static("\"v1\""))
        .with_header(LAST_MODIFIED, HeaderValue::from_static(MODIFIED))
}

/// A body that streams `DIGITS` in chunks of 3 bytes and declares its length.
fn streamed() -> Body {
    let chunks: Vec<_> = DIGITS.as_bytes().chunks(3).map(|c| Ok::<_, std::io::Error>(Bytes::from(c))).collect();
    known_length(Body::from_stream(futures_util::stream::iter(chunks)), 10)
}

async fn app_with(max_range_count: usize) -> TestApplication {
    test_application(move |app: &mut Application| {
        app.install(ConditionalHeaders, Default::default());
        app.install(PartialContent, PartialContentConfig { max_range_count });
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move { call.respond(tagged()).await });
            r.head("/", |call: ApplicationCall| async move { call.respond(tagged()).await });
            r.post("/", |call: ApplicationCall| async move { call.respond(tagged()).await });
            r.get("/stream", |call: ApplicationCall| async move {
                call.respond(OutgoingContent::new(streamed(), Some(HeaderValue::from_static("text/plain")))).await
            });
            r.get("/unknown", |call: ApplicationCall| async move {
                let chunks = [Ok::<_, std::io::Error>(Bytes::from_static(b"abc"))];
                call.respond(Body::from_stream(futures_util::stream::iter(chunks))).await
            });
            r.get("/empty", |call: ApplicationCall| async move { call.respond_text("").await });
            r.get("/created", |call: ApplicationCall| async move {
                call.respond(tagged().with_status(StatusCode::CREATED)).await
            });
        });
    })
    .await
}

async fn app() -> TestApplication {
    app_with(10).await
}

async fn get(app: &TestApplication, path: &str, headers: &[(&str, &str)]) -> rotor_test::TestResponse {
    let mut request = app.client().get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await
}

#[tokio::test]
async fn single_ranges_of_every_form() {
    let app = app().await;
    let cases = [
        ("bytes=0-4", "bytes 0-4/10", "01234"),
        ("bytes=-3", "bytes 7-9/10", "789"),
        ("bytes=7-", "bytes 7-9/10", "789"),
        ("bytes=9-9", "bytes 9-9/10", "9"),
        ("bytes=8-100", "bytes 8-9/10", "89"),
        ("bytes=-100", "bytes 0-9/10", DIGITS),
        ("bytes=0-0", "bytes 0-0/10", "0"),
    ];
    for path in ["/", "/stream"] {
        for (range, content_range, body) in cases {
            let res = get(&app, path, &[("range", range)]).await;
            assert_eq!(res.status(), 206, "{path} {range}");
            assert_eq!(res.header("content-range"), Some(content_range), "{path} {range}");
            assert_eq!(res.header("content-length"), Some(body.len().to_string().as_str()));
            assert!(res.header("content-type").unwrap().starts_with("text/plain"));
            assert_eq!(res.text().await, body, "{path} {range}");
        }
    }
}

#[tokio::test]
async fn whole_answers_advertise_ranges() {
    let app = app().await;
    let res = get(&app, "/", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(get(&app, "/stream", &[]).await.header("accept-ranges"), Some("bytes"));
    // Unknown length, another method, another status: not eligible.
    let res = get(&app, "/unknown", &[("range", "bytes=0-0")]).await;
    assert_eq!((res.status().as_u16(), res.header("accept-ranges")), (200, None));
    let res = app.client().post("/").header("range", "bytes=0-0").send().await;
    assert_eq!((res.status().as_u16(), res.header("accept-ranges")), (200, None));
    let res = get(&app, "/created", &[("range", "bytes=0-0")]).await;
    assert_eq!((res.status().as_u16(), res.header("content-range")), (201, None));
}

#[tokio::test]
async fn unsatisfiable_ranges_answer_416() {
    let app = app().await;
    for range in ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=100-200,50-"] {
        let res = get(&app, "/", &[("range", range)]).await;
        assert_eq!(res.status(), 416, "{range}");
        assert_eq!(res.header("content-range"), Some("bytes */10"));
        assert!(res.bytes().await.is_empty());
    }
}

#[tokio::test]
async fn malformed_or_foreign_ranges_are_ignored() {
    let app = app().await;
    for range in ["bytes=5-1", "items=0-1", "bytes=x-", "bytes", "bytes=--1", "bytes=1-2-3"] {
        let res = get(&app, "/", &[("range", range)]).await;
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.text().await, DIGITS);
    }
    let twice = app.client().get("/").header("range", "bytes=0-1").header("range", "bytes=2-3").send().await;
    assert_eq!(twice.status(), 200);
}

#[tokio::test]
async fn empty_bodies_are_sent_whole() {
    let app = app().await;
    let res = get(&app, "/empty", &[("range", "bytes=0-")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("0"));
    let res = get(&app, "/empty", &[("range", "bytes=-5")]).await;
    assert_eq!(res.status(), 200);
}

/// Splits a `multipart/byteranges` body into (content-range, data) parts.
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type.split("boundary=").nth(1).expect("a boundary");
    let text = String::from_utf8(body.to_vec()).unwrap();
    let closing = format!("\r\n--{boundary}--\r\n");
    assert!(text.ends_with(&closing), "{text:?}");
    let text = &text[..text.len() - closing.len()];
    text.split(&format!("--{boundary}\r\n"))
        .filter(|part| !part.is_empty())
        .map(|part| {
            let part = part.strip_suffix("\r\n").unwrap_or(part);
            let (head, data) = part.split_once("\r\n\r\n").expect("part head");
            assert!(head.contains("Content-Type: text/plain"), "{head}");
            let range = head.lines().find_map(|line| line.strip_prefix("Content-Range: ")).unwrap();
            (range.to_owned(), data.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn several_ranges_answer_multipart_byteranges() {
    let long: String = (0..1000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let body = long.clone();
    let app = test_application(move |app: &mut Application| {
        app.install(PartialContent, PartialContentConfig::default());
        app.routing(move |r| {
            r.get("/", move |call: ApplicationCall| {
                let body = body.clone();
                async move { call.respond_text(body).await }
            });
        });
    })
    .await;
    // Unsorted, at the end of the body, one unsatisfiable: sorted parts of the satisfiable ones.
    let res = get(&app, "/", &[("range", "bytes=-10,0-4,500-509,5000-")]).await;
    assert_eq!(res.status(), 206);
    let content_type = res.header("content-type").unwrap().to_owned();
    assert!(content_type.starts_with("multipart/byteranges; boundary="), "{content_type}");
    assert_eq!(res.header("content-range"), None);
    let length: usize = res.header("content-length").unwrap().parse().unwrap();
    let bytes = res.bytes().await;
    assert_eq!(bytes.len(), length);
    let expected = [
        ("bytes 0-4/1000".to_owned(), long[0..5].to_owned()),
        ("bytes 500-509/1000".to_owned(), long[500..510].to_owned()),
        ("bytes 990-999/1000".to_owned(), long[990..].to_owned()),
    ];
    assert_eq!(parts(&content_type, &bytes), expected);
    // Overlapping and nearby ranges are coalesced into one.
    let res = get(&app, "/", &[("range", "bytes=0-99,50-149,160-170")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.header("content-range"), Some("bytes 0-170/1000"));
}

#[tokio::test]
async fn several_ranges_of_a_stream_are_read_in_one_pass() {
    let app = app().await;
    let res = get(&app, "/stream", &[("range", "bytes=8-9,0-1")]).await;
    assert_eq!(res.status(), 206);
    // Ranges less than 80 bytes apart are coalesced: one part.
    assert_eq!(res.header("content-range"), Some("bytes 0-9/10"));
    assert_eq!(res.text().await, DIGITS);
}

#[tokio::test]
async fn too_many_ranges_are_served_as_one() {
    let app = app_with(2).await;
    let res = get(&app, "/", &[("range", "bytes=0-0,2-2,4-4")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.header("content-range"), Some("bytes 0-4/10"));
    assert_eq!(res.text().await, "01234");
}

#[tokio::test]
async fn if_range_with_entity_tags_and_dates() {
    let app = app().await;
    let ranged = |if_range: &'static str| [("range", "bytes=0-1"), ("if-range", if_range)];
    assert_eq!(get(&app, "/", &ranged("\"v1\"")).await.status(), 206);
    assert_eq!(get(&app, "/", &ranged(MODIFIED)).await.status(), 206);
    for stale in ["\"v0\"", "W/\"v1\"", "Sun, 06 Nov 1994 08:49:38 GMT", "garbage"] {
        let res = get(&app, "/", &ranged(stale)).await;
        assert_eq!(res.status(), 200, "{stale}");
        assert_eq!(res.text().await, DIGITS);
    }
    // No validators at all: the If-Range cannot match.
    assert_eq!(get(&app, "/stream", &[("range", "bytes=0-1"), ("if-range", "\"v1\"")]).await.status(), 200);
}

#[tokio::test]
async fn conditional_requests_come_before_ranges() {
    let app = app().await;
    let res = get(&app, "/", &[("range", "bytes=0-1"), ("if-none-match", "\"v1\"")]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.header("content-range"), None);
    let res = get(&app, "/", &[("range", "bytes=0-1"), ("if-match", "\"v0\"")]).await;
    assert_eq!(res.status(), 412);
    let res = get(&app, "/", &[("range", "bytes=0-1"), ("if-none-match", "\"v0\"")]).await;
    assert_eq!(res.status(), 206);
}

#[tokio::test]
async fn head_answers_the_headers_of_the_range() {
    let app = app().await;
    let res = app.client().head("/").header("range", "bytes=2-5").send().await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.header("content-range"), Some("bytes 2-5/10"));
    assert_eq!(res.header("content-length"), Some("4"));
}

#[tokio::test]
async fn max_range_count_of_zero_is_refused() {
    let built = rotor_test::TestApplication::builder()
        .module(|app: &mut Application| {
            app.install(PartialContent, PartialContentConfig { max_range_count: 0 });
        })
        .build();
    assert!(built.unwrap_err().to_string().contains("max_range_count"));
}

#[tokio::test]
async fn a_range_source_serves_ranges_only_for_its_own_representation() {
    use rotor::plugins::partial_content::RangeSource;
    let app = test_application(|app: &mut Application| {
        app.install(PartialContent, PartialContentConfig::default());
        app.routing(|r| {
            r.get("/{tag}", |call: ApplicationCall| async move {
                // The source reads "ABCDEFGHIJ" where the body holds digits, so the test sees who served.
                let source = RangeSource::new(HeaderValue::from_static("\"v1\""), 10, |start, length| {
                    let letters: &'static [u8] = b"ABCDEFGHIJ";
                    Body::from(&letters[start as usize..(start + length) as usize])
                });
                source.attach(&call);
                let tag = format!("\"{}\"", call.parameters().get("tag").unwrap_or_default());
                let content = OutgoingContent::text(DIGITS).with_header(ETAG, HeaderValue::try_from(tag).unwrap());
                call.respond(content).await
            });
        });
    })
    .await;
    let res = get(&app, "/v1", &[("range", "bytes=2-4")]).await;
    assert_eq!((res.status().as_u16(), res.header("content-length")), (206, Some("3")));
    assert_eq!(res.text().await, "CDE");
    // Near ranges coalesce into one, read from the source as well.
    let res = get(&app, "/v1", &[("range", "bytes=0-0,200-,8-")]).await;
    assert_eq!(res.header("content-range"), Some("bytes 0-9/10"));
    assert_eq!(res.text().await, "ABCDEFGHIJ");
    // Another ETag: the source is not this representation's, the body is sliced instead.
    assert_eq!(get(&app, "/v2", &[("range", "bytes=2-4")]).await.text().await, "234");
}
