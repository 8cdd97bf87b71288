//! `embedded_server` on the hyper engine: lifecycle events in Ktor's order, resolved connectors, stop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotor::engine::embedded_server;
use rotor::environment::ApplicationEnvironment;
use rotor::events::{
    APPLICATION_MODULES_LOADED, APPLICATION_STARTED, APPLICATION_STARTING, APPLICATION_STOP_PREPARING,
    APPLICATION_STOPPED, APPLICATION_STOPPING, EventDefinition, SERVER_READY,
};
use rotor_tests::TestEngines;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Trail = Arc<Mutex<Vec<&'static str>>>;

const LIFECYCLE: [(&EventDefinition<ApplicationEnvironment>, &str); 7] = [
    (&APPLICATION_STARTING, "ApplicationStarting"),
    (&APPLICATION_MODULES_LOADED, "ApplicationModulesLoaded"),
    (&APPLICATION_STARTED, "ApplicationStarted"),
    (&SERVER_READY, "ServerReady"),
    (&APPLICATION_STOP_PREPARING, "ApplicationStopPreparing"),
    (&APPLICATION_STOPPING, "ApplicationStopping"),
    (&APPLICATION_STOPPED, "ApplicationStopped"),
];

async fn get(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn lifecycle_events_are_raised_in_order_around_start_and_stop() {
    let trail = Trail::default();
    let in_module = Arc::clone(&trail);
    let mut server = embedded_server(
        TestEngines,
        |config| config.host("127.0.0.1").port(0),
        move |app| {
            in_module.lock().unwrap().push("module runs");
            hello::module(app);
        },
    );
    for (event, name) in LIFECYCLE {
        let trail = Arc::clone(&trail);
        server.environment().events().subscribe(event, move |_environment: &ApplicationEnvironment| {
            trail.lock().unwrap().push(name);
        });
    }

    server.start(false).await.unwrap();
    let connector = &server.resolved_connectors()[0];
    assert_ne!(connector.port(), 0, "port 0 is resolved to the port chosen");
    assert!(get(connector.port()).await.ends_with("Hello, world!"));
    assert_eq!(
        *trail.lock().unwrap(),
        ["ApplicationStarting", "module runs", "ApplicationModulesLoaded", "ApplicationStarted", "ServerReady"]
    );

    server.stop_with(Duration::from_millis(200), Duration::from_secs(2)).await;
    assert_eq!(trail.lock().unwrap()[5..], ["ApplicationStopPreparing", "ApplicationStopping", "ApplicationStopped"]);
}

#[tokio::test]
async fn start_waits_until_a_stop_handle_asks_it_to_stop() {
    let mut server = embedded_server(TestEngines, |config| config.host("127.0.0.1").port(0), hello::module);
    let stopped = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&stopped);
    server.environment().events().subscribe(&APPLICATION_STOPPED, move |_: &ApplicationEnvironment| {
        *flag.lock().unwrap() = true;
    });
    let ready = Arc::new(tokio::sync::Notify::new());
    let notify = Arc::clone(&ready);
    server.environment().events().subscribe(&SERVER_READY, move |_: &ApplicationEnvironment| notify.notify_one());
    let handle = server.stop_handle();
    let running = tokio::spawn(async move { server.start(true).await });
    ready.notified().await;
    handle.stop();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("start(true) returns").unwrap().unwrap();
    assert!(*stopped.lock().unwrap());
}

#[tokio::test]
async fn a_module_that_panics_is_a_startup_error_and_nothing_listens() {
    let mut server = embedded_server(
        TestEngines,
        |config| config.host("127.0.0.1").port(0),
        |_app| {
            panic!("DATABASE_URL is not set");
        },
    );
    let error = server.start(false).await.unwrap_err();
    assert_eq!(error.to_string(), "module `module` failed to load: DATABASE_URL is not set");
    assert!(server.resolved_connectors().is_empty());
}

#[tokio::test]
async fn a_bad_configuration_is_reported_by_start() {
    let mut server =
        embedded_server(TestEngines, |config| config.config("rotor.deployment.port", "http"), hello::module);
    let error = server.start(false).await.unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("rotor.deployment.port"), "{error}");
}
