//! Compression over a real connection: gzip on the wire, streamed as the body is produced.

mod support;

use std::time::Duration;

use bytes::Bytes;
use rotor::plugins::compression::Compression;
use rotor::prelude::*;
use support::{PATIENCE, RawConnection, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn text() -> String {
    (0..500).map(|i| format!("line {i} of a text worth compressing\n")).collect()
}

fn module(app: &mut Application) {
    app.install(Compression, Default::default());
    app.routing(|r| {
        r.get("/text", |call: ApplicationCall| async move { call.respond_text(text()).await });
        r.get("/events", |call: ApplicationCall| async move {
            let events = futures_util::stream::unfold(0u64, |i| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from(format!("data: event {i}\n\n"))), i + 1))
            });
            let content =
                OutgoingContent::new(Body::from_stream(events), Some(HeaderValue::from_static("text/event-stream")));
            call.respond(content).await
        });
        r.post("/echo", |call: ApplicationCall| async move {
            let body = call.receive_bytes().await?;
            call.respond_bytes(body, HeaderValue::from_static("application/octet-stream")).await
        });
    });
}

#[tokio::test]
async fn gzip_travels_chunked_and_decodes_to_the_original() {
    let server = start(module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET /text HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip\r\n\r\n").await;
    let response = connection.read_response().await.expect("a response");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("vary"), Some("accept-encoding"));
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(&response.body[..2], &[0x1f, 0x8b]);
    assert!(response.body.len() < text().len() / 4);

    // The same connection goes on; the server decodes what it sent when it comes back as a gzip request body.
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
        response.body.len()
    )
    .into_bytes();
    request.extend_from_slice(&response.body);
    connection.send(&request).await;
    let echoed = connection.read_response().await.expect("a response");
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.text(), text());
}

#[tokio::test]
async fn without_accept_encoding_the_body_is_sent_as_it_is() {
    let server = start(module).await;
    let response = support::request(server.addr, "GET /text HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("a response");
    assert_eq!(response.header("content-encoding"), None);
    assert_eq!(response.header("content-length"), Some(text().len().to_string().as_str()));
    assert_eq!(response.text(), text());
}

#[tokio::test]
async fn an_endless_stream_reaches_the_client_compressed_before_it_ends() {
    let server = start(module).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    stream.write_all(b"GET /events HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip\r\n\r\n").await.expect("sends");
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    // The head, then at least three chunks of body: the gzip header and two flushed events.
    let (head, body) = loop {
        let read =
            tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await.expect("output in time").expect("reads");
        assert!(read > 0, "the server closed an endless stream");
        received.extend_from_slice(&chunk[..read]);
        let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
        let body = &received[end + 4..];
        if body.windows(2).filter(|window| *window == b"\r\n").count() >= 6 {
            break (String::from_utf8_lossy(&received[..end]).to_ascii_lowercase(), body.to_vec());
        }
    };
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let first_chunk_start = body.windows(2).position(|window| window == b"\r\n").expect("a chunk size") + 2;
    assert_eq!(&body[first_chunk_start..first_chunk_start + 2], &[0x1f, 0x8b]);
}
