//! Each protocol limit and timeout, over a real socket, with small values so the suite stays fast.

mod support;

use std::time::Duration;

use rotor::engine::ProtocolLimits;
use rotor_tests::EngineKind;
use support::{PATIENCE, RawConnection, request, start_with, still_serves, upload_module};

fn limits() -> ProtocolLimits {
    ProtocolLimits {
        max_initial_line_length: 128,
        max_header_size: 1024,
        max_headers: 20,
        max_body_size: 1000,
        request_read_timeout: Some(Duration::from_secs(1)),
        connection_idle_timeout: Some(Duration::from_secs(1)),
        max_requests_per_connection: Some(3),
    }
}

#[tokio::test]
async fn a_request_line_over_the_limit_answers_414() {
    let server = start_with(upload_module, limits()).await;
    let long = "a".repeat(200);
    let response = request(server.addr, &format!("GET /{long} HTTP/1.1\r\nHost: t\r\n\r\n")).await.unwrap();
    assert_eq!(response.status, 414);
    assert_eq!(response.header("connection"), Some("close"));
    still_serves(server.addr).await;
}

#[tokio::test]
async fn header_fields_over_the_size_limit_answer_431() {
    let server = start_with(upload_module, limits()).await;
    let big = "x".repeat(1100);
    let response = request(server.addr, &format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n")).await.unwrap();
    assert_eq!(response.status, 431);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn more_header_fields_than_allowed_answer_431() {
    let server = start_with(upload_module, limits()).await;
    let many: String = (0..30).map(|i| format!("X-H{i}: v\r\n")).collect();
    let response = request(server.addr, &format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n")).await.unwrap();
    assert_eq!(response.status, 431);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn more_header_fields_than_the_parser_takes_are_refused_and_the_server_keeps_serving() {
    // Under the default limits (100 fields) hyper parses at most 100 fields, without allocating; a head with more
    // is closed by hyper without an answer. rotor-cio parses one more than the limit and answers 431.
    let server = start_with(upload_module, ProtocolLimits::default()).await;
    let within: String = (0..99).map(|i| format!("X-H{i}: v\r\n")).collect();
    let response = request(server.addr, &format!("GET / HTTP/1.1\r\nHost: t\r\n{within}\r\n")).await;
    assert_eq!(response.map(|response| response.status), Some(200), "100 fields are within the default limit");
    let over: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let response = request(server.addr, &format!("GET / HTTP/1.1\r\nHost: t\r\n{over}\r\n")).await;
    match EngineKind::from_env() {
        EngineKind::Hyper => {
            assert!(response.is_none(), "closed without an answer: {:?}", response.map(|response| response.status));
        }
        EngineKind::Cio => assert_eq!(response.map(|response| response.status), Some(431)),
    }
    still_serves(server.addr).await;
}

#[tokio::test]
async fn a_declared_body_over_the_limit_answers_413_before_any_100_continue() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n").await;
    let response = connection.read_response().await.unwrap();
    assert_eq!(response.status, 413, "the first answer is the refusal, not 100 Continue");
    assert!(response.text().contains("maxBodySize"), "{}", response.text());
    still_serves(server.addr).await;
}

#[tokio::test]
async fn a_body_within_the_limit_gets_100_continue_and_is_read() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n").await;
    let interim = connection.read_response().await.unwrap();
    assert_eq!(interim.status, 100);
    connection.send(b"hello").await;
    let response = connection.read_response().await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "5 bytes");
}

#[tokio::test]
async fn a_chunked_body_growing_over_the_limit_answers_413() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n").await;
    let chunk = format!("1f4\r\n{}\r\n", "z".repeat(500));
    for _ in 0..3 {
        if connection.try_send(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = connection.try_send(b"0\r\n\r\n").await;
    let response = connection.read_response().await.unwrap();
    assert_eq!(response.status, 413);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn headers_trickled_slower_than_the_read_timeout_are_cut_off() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n").await;
    let started = tokio::time::Instant::now();
    // Keep sending a header byte now and then, never finishing the head.
    let mut closed = false;
    for i in 0..40 {
        if connection.try_send(format!("X-Slow-{i}: 1\r\n").as_bytes()).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed || connection.is_closed_by_server().await, "a trickling client is cut off");
    assert!(started.elapsed() < PATIENCE);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_read_timeout_answers_408() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n").await;
    let writer = async {
        for _ in 0..30 {
            if connection.try_send(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), writer).await;
    let response = connection.read_response().await.expect("a 408 answer");
    assert_eq!(response.status, 408);
    assert_eq!(response.header("connection"), Some("close"));
    still_serves(server.addr).await;
}

/// How long a keep-alive connection stays open after answering one request, with `limits`.
async fn idle_time_before_close(limits: ProtocolLimits) -> Duration {
    let server = start_with(upload_module, limits).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.unwrap().status, 200);
    let idle_since = tokio::time::Instant::now();
    assert!(connection.is_closed_by_server().await, "the idle connection is closed");
    idle_since.elapsed()
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let waited = idle_time_before_close(limits()).await;
    assert!(waited >= Duration::from_millis(900), "not before the idle timeout: {waited:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_waits_for_the_idle_timeout_not_the_read_timeout() {
    // hyper's header-read timer used to run between keep-alive requests, closing idle connections at the
    // (shorter) request read timeout.
    let limits = ProtocolLimits {
        request_read_timeout: Some(Duration::from_millis(300)),
        connection_idle_timeout: Some(Duration::from_millis(1500)),
        ..limits()
    };
    let waited = idle_time_before_close(limits).await;
    assert!(waited >= Duration::from_millis(1400), "closed before the idle timeout: {waited:?}");
}

#[tokio::test]
async fn the_last_request_allowed_on_a_connection_is_answered_with_connection_close() {
    let server = start_with(upload_module, limits()).await;
    let mut connection = RawConnection::open(server.addr).await;
    for i in 1..=3 {
        connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let response = connection.read_response().await.unwrap();
        assert_eq!(response.status, 200);
        let close = response.header("connection") == Some("close");
        assert_eq!(close, i == 3, "request {i}");
    }
    assert!(connection.is_closed_by_server().await);
}

#[tokio::test]
async fn http11_without_exactly_one_host_answers_400() {
    let server = start_with(upload_module, limits()).await;
    let response = request(server.addr, "GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 400);
    let response = request(server.addr, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 400);
    let response = request(server.addr, "GET / HTTP/1.0\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 200, "HTTP/1.0 needs no Host");
}
