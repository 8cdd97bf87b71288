//! `rotor.deployment.runtime = thread-per-core`: worker threads of the engine's own, each with its own listening
//! socket on the same port, serve like the shared runtime does and stop gracefully together.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rotor::engine::RuntimeMode;
use rotor::prelude::*;
use support::{RawConnection, TestServer, request, start_configured};
use tokio::sync::{Notify, Semaphore};

async fn start_per_core(module: impl FnOnce(&mut Application), workers: usize) -> TestServer {
    start_configured(module, |settings| {
        settings.runtime = RuntimeMode::ThreadPerCore;
        settings.workers = Some(workers);
    })
    .await
}

/// Answers `/thread` with the name of the thread that ran the call, `/slow` once released.
fn module(started: Arc<Notify>, release: Arc<Semaphore>) -> impl FnOnce(&mut Application) {
    move |app| {
        app.routing(move |r| {
            r.get("/thread", |call: ApplicationCall| async move {
                let name = std::thread::current().name().unwrap_or("unnamed").to_owned();
                call.respond_text(name).await
            });
            r.get("/slow", move |call: ApplicationCall| {
                let (started, release) = (Arc::clone(&started), Arc::clone(&release));
                async move {
                    started.notify_one();
                    let _permit = release.acquire().await.map_err(|_| Error::internal("closed"))?;
                    call.respond_text("finished in full").await
                }
            });
        });
    }
}

#[tokio::test]
async fn every_connection_is_served_on_one_of_the_worker_threads() {
    let server = start_per_core(module(Arc::new(Notify::new()), Arc::new(Semaphore::new(0))), 2).await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let mut connection = RawConnection::open(addr).await;
            let mut names = Vec::new();
            for _ in 0..3 {
                connection.send(b"GET /thread HTTP/1.1\r\nHost: t\r\n\r\n").await;
                let response = connection.read_response().await.expect("an answer");
                assert_eq!(response.status, 200);
                names.push(response.text());
            }
            assert!(names.iter().all(|name| name == &names[0]), "a connection stays on its thread: {names:?}");
            names.swap_remove(0)
        }));
    }
    let mut threads = std::collections::BTreeSet::new();
    for task in tasks {
        threads.insert(task.await.unwrap());
    }
    assert!(threads.iter().all(|name| name.starts_with("rotor-worker-")), "{threads:?}");
    assert!(threads.len() <= 2, "{threads:?}");
    server.stop(Duration::from_secs(1), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_stop_finishes_calls_in_flight_on_every_worker_and_closes_the_port() {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
    let server = start_per_core(module(Arc::clone(&started), Arc::clone(&release)), 2).await;
    let addr = server.addr;
    // Several slow calls, so that both workers (very likely) hold one.
    let mut slow = Vec::new();
    for _ in 0..6 {
        let mut connection = RawConnection::open(addr).await;
        connection.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n").await;
        started.notified().await;
        slow.push(connection);
    }
    let mut idle = RawConnection::open(addr).await;
    idle.send(b"GET /thread HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(idle.read_response().await.unwrap().status, 200);

    let stopping = tokio::spawn(server.stop(Duration::from_secs(5), Duration::from_secs(10)));
    assert!(idle.is_closed_by_server().await, "an idle connection is closed at once");
    let refused = async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refused).await.expect("new connections are refused");
    release.add_permits(slow.len());
    for mut connection in slow {
        let response = connection.read_response().await.expect("the call in flight is answered");
        assert_eq!(response.text(), "finished in full");
        assert_eq!(response.header("connection"), Some("close"));
    }
    tokio::time::timeout(Duration::from_secs(5), stopping).await.expect("stop returns").unwrap();
}

#[tokio::test]
async fn a_port_in_use_fails_the_start_and_leaves_nothing_listening() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut application = Application::new(rotor::environment::ApplicationEnvironment::default());
    hello::module(&mut application);
    let mut settings = rotor::engine::EngineSettings::new(vec![rotor::engine::ConnectorSettings {
        host: "127.0.0.1".into(),
        port,
        tls: None,
    }]);
    settings.runtime = RuntimeMode::ThreadPerCore;
    settings.workers = Some(2);
    let mut engine = rotor::engine::ApplicationEngineFactory::create(&rotor_tests::TestEngines);
    let error = rotor::engine::ApplicationEngine::start(&mut engine, Arc::new(application), &settings)
        .await
        .expect_err("the port is taken");
    assert!(error.to_string().contains("already in use"), "{error}");
}

#[tokio::test]
async fn limits_apply_on_the_worker_threads() {
    let server = start_configured(hello::module, |settings| {
        settings.runtime = RuntimeMode::ThreadPerCore;
        settings.workers = Some(1);
        settings.limits.connection_idle_timeout = Some(Duration::from_millis(500));
    })
    .await;
    let response = request(server.addr, "GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert_eq!(response.status, 400, "no Host header");
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(connection.read_response().await.unwrap().status, 200);
    let idle_since = tokio::time::Instant::now();
    assert!(connection.is_closed_by_server().await, "the idle connection is closed");
    assert!(idle_since.elapsed() >= Duration::from_millis(450), "{:?}", idle_since.elapsed());
    server.stop(Duration::from_secs(1), Duration::from_secs(2)).await;
}
