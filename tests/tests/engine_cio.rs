//! What rotor-cio alone does, over real sockets: framing at the edges (bodies left unread, streamed back,
//! pipelined behind a body), HTTP/1.0, `100 Continue` left unsent, and what it does not serve (HTTP/2, TLS).
//! The black-box tests of the other files run on it too (`ROTOR_TEST_ENGINE=cio`, scripts/test.sh).

mod support;

use std::sync::Arc;

use bytes::Bytes;
use rotor::engine::{ApplicationEngine, ConnectorSettings, EngineSettings, TlsFiles};
use rotor::environment::ApplicationEnvironment;
use rotor::prelude::*;
use rotor_tests::{EngineKind, TestEngine};
use support::{RawConnection, TestServer, start_on, still_serves};

async fn start(module: impl FnOnce(&mut Application)) -> TestServer {
    start_on(EngineKind::Cio, module, |_| {}).await
}

#[tokio::test]
async fn a_chunked_body_is_streamed_back_and_the_pipelined_request_behind_it_is_answered() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection
        .send(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;ext=\"x\"\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: t\r\n\r\n\
              GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .await;
    let echoed = connection.read_response().await.expect("the echo");
    assert_eq!((echoed.status, echoed.text().as_str()), (200, "hello, world"));
    assert_eq!(echoed.header("transfer-encoding"), Some("chunked"), "a stream of unknown length");
    let next = connection.read_response().await.expect("the pipelined GET");
    assert_eq!((next.status, next.text().as_str()), (200, "Hello, world!"));
}

#[tokio::test]
async fn a_small_body_the_call_leaves_unread_is_discarded_and_the_connection_kept() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    // `POST /` has no route: answered 405 without the body being read.
    connection.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789").await;
    let refused = connection.read_response().await.expect("an answer");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("connection"), None);
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.expect("the next answer").status, 200);
}

#[tokio::test]
async fn a_large_body_the_call_leaves_unread_closes_the_connection_after_the_answer() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    let length = 1024 * 1024;
    connection.send(format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n\r\n").as_bytes()).await;
    // The client keeps sending; the server stops reading past its drain limit and closes.
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..(length / chunk.len()) {
        if connection.try_send(&chunk).await.is_err() {
            break;
        }
    }
    let response = connection.read_response().await.expect("the answer arrives before the close");
    assert_eq!(response.status, 405);
    assert_eq!(response.header("connection"), Some("close"), "more than the server discards: it says it closes");
    assert!(connection.is_closed_by_server().await);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn a_body_unread_while_the_client_waits_for_100_continue_is_answered_with_connection_close() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").await;
    let response = connection.read_response().await.expect("an answer");
    assert_eq!(response.status, 405, "no 100 Continue comes first: the body was never read");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.is_closed_by_server().await);
}

#[tokio::test]
async fn a_body_streamed_back_gets_its_100_continue_ahead_of_the_answer() {
    // The echo route hands the unread body to its answer: the body is first read while the answer is written.
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").await;
    let interim = connection.read_response().await.expect("100 Continue");
    assert_eq!(interim.status, 100);
    connection.send(b"hello").await;
    let response = connection.read_response().await.expect("the echo");
    assert_eq!((response.status, response.text().as_str()), (200, "hello"));
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.expect("the connection stays open").status, 200);
}

#[tokio::test]
async fn an_answer_that_says_connection_close_closes_the_connection() {
    let server = start(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let call = ctx.call();
            call.response().set_header("connection", "close")?;
            call.respond_text("bye").await
        });
    })
    .await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let response = connection.read_response().await.expect("an answer");
    assert_eq!((response.status, response.text().as_str()), (200, "bye"));
    let closes: Vec<_> = response.headers.iter().filter(|(name, _)| name == "connection").collect();
    assert_eq!(closes.len(), 1, "one Connection field: {:?}", response.headers);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.is_closed_by_server().await);
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_a_large_answer_is_let_go_after_the_idle_timeout() {
    let server = start_on(
        EngineKind::Cio,
        |app| {
            app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
                // 64 MiB, more than any socket buffers between the two ends hold.
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let chunks = (0..1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                ctx.call().respond(Body::from_stream(futures_util::stream::iter(chunks))).await
            });
        },
        |settings| settings.limits.connection_idle_timeout = Some(std::time::Duration::from_millis(300)),
    )
    .await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.expect("connects");
    stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await.expect("sends");
    // The answer has begun; from here on the client reads nothing, the server's writes stall, and it lets the
    // connection go.
    let mut start = [0u8; 16];
    stream.read_exact(&mut start).await.expect("the answer begins");
    assert_eq!(&start[..12], b"HTTP/1.1 200");
    let stalled = tokio::time::Instant::now();
    assert_eq!(server.engine.open_connections(), 1);
    while server.engine.open_connections() > 0 {
        assert!(stalled.elapsed() < support::PATIENCE, "the stalled connection is still open");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(stalled.elapsed() >= std::time::Duration::from_millis(250), "not before the idle timeout");
    drop(stream);
}

#[tokio::test]
async fn http10_is_answered_and_closed_unless_it_asks_for_keep_alive() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.0\r\n\r\n").await;
    let response = connection.read_response().await.expect("an answer");
    assert_eq!((response.status, response.header("connection")), (200, Some("close")));
    assert!(connection.is_closed_by_server().await);

    let mut connection = RawConnection::open(server.addr).await;
    for _ in 0..2 {
        connection.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
        let response = connection.read_response().await.expect("an answer");
        assert_eq!((response.status, response.header("connection")), (200, Some("keep-alive")));
    }
}

#[tokio::test]
async fn a_stream_of_unknown_length_ends_with_the_connection_on_http10() {
    let server = start(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let chunks = (0..3).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("part {i};"))));
            ctx.call().respond(Body::from_stream(futures_util::stream::iter(chunks))).await
        });
    })
    .await;
    let (head, body) = read_until_close(server.addr, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    assert!(!head.contains("transfer-encoding"), "no chunked coding in HTTP/1.0: {head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, "part 0;part 1;part 2;");
}

#[tokio::test]
async fn head_answers_carry_the_length_and_no_body() {
    let server = start(hello::module).await;
    // AutoHeadResponse is not installed: the hello module's GET route answers HEAD with 405 and no body.
    let (head, rest) = support::head_then_get(server.addr, "/", "/").await;
    assert!(head.starts_with("http/1.1 405"), "{head}");
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "the HEAD answer carried no body bytes: {rest:?}");
}

#[tokio::test]
async fn an_http2_preface_is_refused_cleanly() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    if let Some(response) = connection.read_response().await {
        assert_eq!(response.status, 400);
    }
    assert!(connection.is_closed_by_server().await);
    still_serves(server.addr).await;
}

#[tokio::test]
async fn an_https_connector_fails_the_start_with_advice() {
    let mut application = Application::new(ApplicationEnvironment::default());
    hello::module(&mut application);
    let tls = TlsFiles { certificate: "cert.pem".into(), private_key: "key.pem".into() };
    let settings = EngineSettings::new(vec![ConnectorSettings { host: "127.0.0.1".into(), port: 0, tls: Some(tls) }]);
    let mut engine = TestEngine::new(EngineKind::Cio);
    let error = engine.start(Arc::new(application), &settings).await.expect_err("no TLS on rotor-cio");
    assert!(error.is_config(), "{error}");
    assert!(error.message().contains("rotor-hyper"), "{error}");
}

#[tokio::test]
async fn the_calls_of_one_connection_share_nothing_though_each_is_made_in_the_storage_of_the_last() {
    const SEEN: rotor::call::AttributeKey<String> = rotor::call::AttributeKey::new("Seen");
    /// What a call finds of the calls before it (its attribute, response field, status, query parameter), then
    /// leaves its own: the attribute, the field and 202.
    async fn report(call: ApplicationCall) -> rotor::Result<()> {
        // One lock at a time: a guard in an array expression would live to the end of the statement.
        let attribute = call.attributes().get(&SEEN).cloned().unwrap_or_default();
        let field = call.response().headers().get("x-left").map(|v| v.to_str().unwrap_or("?").to_owned());
        let status = call.response().status().map(|status| status.to_string()).unwrap_or_default();
        let query = call.parameters().get("q").unwrap_or_default().to_owned();
        let left = [attribute, field.unwrap_or_default(), status, query];
        let id = call.parameters().get("id").unwrap_or("plain").to_owned();
        call.attributes().put(&SEEN, id.clone());
        call.response().headers_mut().insert("x-left", rotor::http::HeaderValue::from_str(&id)?);
        call.response().set_status(rotor::http::StatusCode::ACCEPTED);
        call.respond_text(format!("{id} after {left:?}")).await
    }
    // A call that a task still holds after its answer leaves no storage to reuse: the next one is made anew.
    let (release, held) = tokio::sync::oneshot::channel::<()>();
    let held = Arc::new(std::sync::Mutex::new(Some(held)));
    let server = start(move |app| {
        app.routing(move |r| {
            r.get("/report/{id}", report);
            // No path parameter: routing sets none, so the parameters of the call before would show.
            r.get("/plain", report);
            r.get("/held", move |call: ApplicationCall| {
                let held = held.lock().unwrap().take();
                async move {
                    let kept = call.clone();
                    tokio::spawn(async move {
                        if let Some(held) = held {
                            let _ = held.await;
                        }
                        drop(kept);
                    });
                    call.respond_text("held").await
                }
            });
        });
    })
    .await;
    let clean = "[\"\", \"\", \"\", \"\"]";
    let mut connection = RawConnection::open(server.addr).await;
    connection
        .send(
            b"GET /report/1?q=a HTTP/1.1\r\nHost: t\r\n\r\nGET /plain HTTP/1.1\r\nHost: t\r\n\r\n\
              GET /held HTTP/1.1\r\nHost: t\r\n\r\nGET /report/3 HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .await;
    let first = String::from("1 after [\"\", \"\", \"\", \"a\"]");
    for (expected, left) in [(first, "1"), (format!("plain after {clean}"), "plain")] {
        let answer = connection.read_response().await.expect("an answer");
        assert_eq!((answer.status, answer.text(), answer.header("x-left")), (202, expected, Some(left)));
    }
    assert_eq!(connection.read_response().await.expect("the held call's answer").text(), "held");
    let answer = connection.read_response().await.expect("the call after the held one");
    assert_eq!(answer.text(), format!("3 after {clean}"));
    let _ = release.send(());
    connection.send(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.expect("an answer").text(), format!("plain after {clean}"));
}

/// Sends `raw` and reads until the server closes: the answer's head (lower case) and its body.
async fn read_until_close(addr: std::net::SocketAddr, raw: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    stream.write_all(raw).await.expect("sends");
    let mut received = Vec::new();
    tokio::time::timeout(support::PATIENCE, stream.read_to_end(&mut received)).await.expect("in time").expect("reads");
    let text = String::from_utf8(received).expect("text");
    let (head, body) = text.split_once("\r\n\r\n").expect("an answer");
    (head.to_ascii_lowercase(), body.to_owned())
}
