//! Malformed requests get a 4xx or a clean close, and the server goes on serving the next client.

mod support;

use support::{RawConnection, start, still_serves};

/// Sends `raw` and returns the status of the answer, or `None` for a clean close without one.
async fn answer(addr: std::net::SocketAddr, raw: &[u8]) -> Option<u16> {
    let mut connection = RawConnection::open(addr).await;
    if connection.try_send(raw).await.is_err() {
        return None;
    }
    let response = connection.read_response().await;
    response.map(|response| response.status)
}

fn assert_refused(case: &str, status: Option<u16>) {
    if let Some(status) = status {
        // 501 is the answer RFC 9112 §6.1 gives for a transfer coding the server does not implement.
        let refused = (400..500).contains(&status) || (status == 501 && case.contains("Transfer-Encoding: gzip"));
        assert!(refused, "{case}: answered {status}, expected a 4xx or a close");
    }
}

#[tokio::test]
async fn bad_request_lines_are_refused() {
    let server = start(hello::module).await;
    let cases: [&[u8]; 7] = [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
        b" / HTTP/1.1\r\nHost: t\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"G\x7fT / HTTP/1.1\r\nHost: t\r\n\r\n",
    ];
    for case in cases {
        let status = answer(server.addr, case).await;
        assert_refused(&String::from_utf8_lossy(case), status);
        still_serves(server.addr).await;
    }
}

#[tokio::test]
async fn invalid_header_bytes_are_refused() {
    let server = start(hello::module).await;
    let cases: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Nul: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\n: empty-name\r\n\r\n",
    ];
    for case in cases {
        let status = answer(server.addr, case).await;
        assert_refused(&String::from_utf8_lossy(case), status);
        still_serves(server.addr).await;
    }
}

#[tokio::test]
async fn conflicting_content_length_and_transfer_encoding_are_refused() {
    let server = start(hello::module).await;
    let cases: [&[u8]; 3] = [
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    ];
    for case in cases {
        let status = answer(server.addr, case).await;
        assert_refused(&String::from_utf8_lossy(case), status);
        still_serves(server.addr).await;
    }
}

#[tokio::test]
async fn content_length_with_transfer_encoding_is_read_by_the_encoding_and_the_connection_closed() {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and the server must close the connection after
    // answering, so a smuggled second request never runs.
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection
        .send(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .await;
    if let Some(response) = connection.read_response().await {
        if response.status == 200 {
            assert_eq!(response.text(), "abc", "the body is read by Transfer-Encoding");
        } else {
            assert_refused("CL+TE", Some(response.status));
        }
    }
    assert!(connection.read_response().await.is_none(), "the smuggled request is never answered");
    still_serves(server.addr).await;
}

#[tokio::test]
async fn bad_chunked_framing_is_refused() {
    let server = start(hello::module).await;
    let cases: [&[u8]; 3] = [
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n",
    ];
    for case in cases {
        let status = answer(server.addr, case).await;
        assert_refused(&String::from_utf8_lossy(case), status);
        still_serves(server.addr).await;
    }
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_does_not_disturb_others() {
    let server = start(hello::module).await;
    for _ in 0..20 {
        let mut connection = RawConnection::open(server.addr).await;
        connection.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nhalf").await;
        drop(connection);
    }
    still_serves(server.addr).await;
}

#[tokio::test]
async fn random_damage_to_requests_never_stops_the_server() {
    // Valid requests of every framing, damaged at random (a seeded xorshift: the same cases on every run): each
    // gets an answer or a close, never a hang or a crash, and the server goes on serving.
    let server = start(hello::module).await;
    let valid: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
    ];
    let alphabet = b"\r\n:; 0123456789abcdefABCDEF\t\x00\x7f\xff-,=\"";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for case in 0..160 {
        let mut bytes = valid[next(valid.len())].to_vec();
        for _ in 0..=next(4) {
            let at = next(bytes.len());
            match next(4) {
                0 => bytes[at] = alphabet[next(alphabet.len())],
                1 => bytes.insert(at, alphabet[next(alphabet.len())]),
                2 => drop(bytes.remove(at)),
                _ => bytes.truncate(at.max(1)),
            }
        }
        let mut connection = RawConnection::open(server.addr).await;
        if connection.try_send(&bytes).await.is_ok() {
            connection.finish().await;
            // Answers (any status) until the server closes; `is_closed_by_server` fails the test on a hang.
            assert!(connection.is_closed_by_server().await, "case {case}: {:?}", String::from_utf8_lossy(&bytes));
        }
        if case % 20 == 19 {
            still_serves(server.addr).await;
        }
    }
    still_serves(server.addr).await;
}
