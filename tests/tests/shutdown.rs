//! Graceful stop: new connections are refused, in-flight calls finish (HTTP/1.1 with `Connection: close`),
//! and what still runs at the timeout is cut off, never answered half.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rotor::prelude::*;
use rotor_tests::EngineKind;
use support::{RawConnection, start, start_on};
use tokio::sync::{Notify, Semaphore};

/// A module whose `/slow` handler signals `started`, then waits for `release` before answering.
fn slow_module(started: Arc<Notify>, release: Arc<Semaphore>) -> impl FnOnce(&mut Application) {
    move |app| {
        app.intercept(&ApplicationCallPipeline::CALL, move |ctx| {
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            async move {
                started.notify_one();
                let _permit = release.acquire().await.map_err(|_| Error::internal("closed"))?;
                ctx.call().respond_text("finished in full").await
            }
        });
    }
}

#[tokio::test]
async fn a_call_in_flight_finishes_with_connection_close_and_new_connections_are_refused() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
    let server = start(slow_module(Arc::clone(&started), Arc::clone(&release))).await;
    let addr = server.addr;
    let mut connection = RawConnection::open(addr).await;
    connection.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n").await;
    started.notified().await;

    let stopping = tokio::spawn(server.stop(Duration::from_secs(5), Duration::from_secs(10)));
    // Once the listener is closed, new connections are refused.
    let refused = async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refused).await.expect("new connections are refused");

    release.add_permits(1);
    let response = connection.read_response().await.expect("the in-flight call is answered");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "finished in full");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.is_closed_by_server().await);
    tokio::time::timeout(Duration::from_secs(5), stopping).await.expect("stop returns").unwrap();
}

#[tokio::test]
async fn a_call_still_running_at_the_timeout_is_cut_off_not_answered_half() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
    let server = start(slow_module(Arc::clone(&started), release)).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n").await;
    started.notified().await;

    let began = tokio::time::Instant::now();
    server.stop(Duration::from_millis(100), Duration::from_millis(300)).await;
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(300), "stop waits for the timeout: {took:?}");
    assert!(took < Duration::from_secs(3), "and not much longer: {took:?}");
    assert!(connection.read_response().await.is_none(), "no response, not even a partial one");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_at_once_on_stop() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.unwrap().status, 200);
    let began = tokio::time::Instant::now();
    server.stop(Duration::from_secs(5), Duration::from_secs(10)).await;
    assert!(began.elapsed() < Duration::from_secs(2), "an idle connection does not hold up the stop");
    assert!(connection.is_closed_by_server().await);
}

#[tokio::test]
async fn http2_gets_goaway_and_its_stream_in_flight_still_finishes() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let (started, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
    // rotor-hyper's (rotor-cio speaks HTTP/1 only).
    let server = start_on(EngineKind::Hyper, slow_module(Arc::clone(&started), Arc::clone(&release)), |_| {}).await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    let connection = tokio::spawn(connection);
    let request = http::Request::get("http://localhost/slow").body(Empty::<Bytes>::new()).unwrap();
    let response = tokio::spawn(sender.send_request(request));
    started.notified().await;

    let stopping = tokio::spawn(server.stop(Duration::from_secs(5), Duration::from_secs(10)));
    release.add_permits(1);
    let response = response.await.unwrap().expect("the stream in flight is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "finished in full");
    // After GOAWAY and the last stream, the server closes the connection: the client's connection task ends.
    tokio::time::timeout(Duration::from_secs(5), connection).await.expect("the connection is closed").unwrap().ok();
    tokio::time::timeout(Duration::from_secs(5), stopping).await.expect("stop returns").unwrap();
}
