//! Static files and ranges over a real socket: raw request bytes, so nothing normalizes the attacks first.

mod support;

use std::path::PathBuf;

use rotor::plugins::conditional_headers::ConditionalHeaders;
use rotor::plugins::partial_content::{PartialContent, PartialContentConfig};
use rotor::plugins::static_content::StaticFiles;
use rotor::prelude::*;
use support::{RawConnection, RawResponse, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "TOP SECRET";

/// `base/secret.txt` outside, `base/public` served; removed when dropped.
struct Site {
    base: PathBuf,
}

impl Site {
    fn new(name: &str) -> Site {
        let base = std::env::temp_dir().join(format!("rotor-wire-static-{}-{name}", std::process::id()));
        let public = base.join("public");
        std::fs::create_dir_all(&public).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::write(public.join("hello.txt"), "hello world").unwrap();
        std::fs::write(public.join("empty.txt"), "").unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(public.join("big.bin"), big).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("secret.txt"), public.join("leak.txt")).unwrap();
            std::os::unix::fs::symlink(&base, public.join("up")).unwrap();
        }
        Site { base }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

async fn serve(site: &Site) -> support::TestServer {
    let public = site.base.join("public");
    start(move |app: &mut Application| {
        app.install(ConditionalHeaders, Default::default());
        app.install(PartialContent, PartialContentConfig::default());
        app.routing(|r| {
            r.static_files("/static", &public);
        });
    })
    .await
}

async fn get(addr: std::net::SocketAddr, target: &str, headers: &str) -> RawResponse {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n");
    let mut connection = RawConnection::open(addr).await;
    connection.send(raw.as_bytes()).await;
    connection.read_response().await.expect("a response")
}

#[tokio::test]
async fn files_conditionals_and_ranges_on_the_wire() {
    let site = Site::new("basic");
    let server = serve(&site).await;
    let res = get(server.addr, "/static/hello.txt", "").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("11"));
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.text(), "hello world");
    let etag = res.header("etag").unwrap().to_owned();

    let res = get(server.addr, "/static/hello.txt", &format!("If-None-Match: {etag}\r\n")).await;
    assert_eq!(res.status, 304);
    assert_eq!(res.header("etag"), Some(etag.as_str()));

    let res = get(server.addr, "/static/hello.txt", "Range: bytes=-5\r\n").await;
    assert_eq!(res.status, 206);
    assert_eq!(res.header("content-range"), Some("bytes 6-10/11"));
    assert_eq!(res.text(), "world");

    let res = get(server.addr, "/static/hello.txt", &format!("Range: bytes=0-4\r\nIf-Range: {etag}\r\n")).await;
    assert_eq!((res.status, res.text().as_str()), (206, "hello"));
    let res = get(server.addr, "/static/hello.txt", "Range: bytes=0-4\r\nIf-Range: \"old\"\r\n").await;
    assert_eq!((res.status, res.text().as_str()), (200, "hello world"));
    let res = get(server.addr, "/static/hello.txt", &format!("Range: bytes=0-4\r\nIf-None-Match: {etag}\r\n")).await;
    assert_eq!(res.status, 304);

    let res = get(server.addr, "/static/hello.txt", "Range: bytes=11-\r\n").await;
    assert_eq!(res.status, 416);
    assert_eq!(res.header("content-range"), Some("bytes */11"));

    let res = get(server.addr, "/static/empty.txt", "Range: bytes=0-\r\n").await;
    assert_eq!((res.status, res.header("content-length")), (200, Some("0")));
}

#[tokio::test]
async fn large_files_and_multiple_ranges_on_the_wire() {
    let site = Site::new("large");
    let server = serve(&site).await;
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let res = get(server.addr, "/static/big.bin", "").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, big);

    let res = get(server.addr, "/static/big.bin", "Range: bytes=199990-\r\n").await;
    assert_eq!(res.status, 206);
    assert_eq!(res.body, &big[199_990..]);

    let res = get(server.addr, "/static/big.bin", "Range: bytes=100000-100009, 0-9\r\n").await;
    assert_eq!(res.status, 206);
    let content_type = res.header("content-type").unwrap().to_owned();
    let boundary = content_type.strip_prefix("multipart/byteranges; boundary=").expect("multipart");
    let mut expected = Vec::new();
    for (index, (start, end)) in [(0usize, 9usize), (100_000, 100_009)].into_iter().enumerate() {
        if index > 0 {
            expected.extend_from_slice(b"\r\n");
        }
        let head = format!(
            "--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {start}-{end}/200000\r\n\r\n"
        );
        expected.extend_from_slice(head.as_bytes());
        expected.extend_from_slice(&big[start..=end]);
    }
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(res.body, expected);
}

#[tokio::test]
async fn head_sends_the_headers_and_no_body() {
    let site = Site::new("head");
    let server = serve(&site).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"HEAD /static/big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-99\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(support::PATIENCE, stream.read_to_end(&mut all)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&all).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 206"), "{text}");
    assert!(text.contains("content-length: 100\r\n"), "{text}");
    assert!(text.contains("content-range: bytes 0-99/200000\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "a HEAD answer has no body: {text}");
}

#[tokio::test]
async fn no_request_escapes_the_root_on_the_wire() {
    let site = Site::new("attacks");
    let server = serve(&site).await;
    let attacks = [
        "/static/../secret.txt",
        "/static/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/..\\secret.txt",
        "/static/%00../secret.txt",
        "/static/hello.txt%00",
        "/static/C:%5csecret.txt",
        "/static/C:/secret.txt",
        "/static/%2f..%2fsecret.txt",
        "/static//../secret.txt",
        "/static/leak.txt",
        "/static/up/secret.txt",
        "/../secret.txt",
        "http://localhost/static/../secret.txt",
        "http://localhost/static/%2e%2e%2fsecret.txt",
    ];
    for attack in attacks {
        let mut connection = RawConnection::open(server.addr).await;
        let raw = format!("GET {attack} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        if connection.try_send(raw.as_bytes()).await.is_err() {
            continue;
        }
        let Some(res) = connection.read_response().await else { continue };
        assert!(res.status == 400 || res.status == 404, "{attack}: {}", res.status);
        assert!(!res.text().contains(SECRET), "{attack}");
    }
    // The server still serves files afterwards.
    assert_eq!(get(server.addr, "/static/hello.txt", "").await.status, 200);
}
