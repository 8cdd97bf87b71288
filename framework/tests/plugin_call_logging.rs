//! CallLogging: one event per call with method, path, status, duration and call id; level and filter.

mod plugin_logs;

use rotor::plugins::call_id::CallId;
use rotor::plugins::call_logging::{CallLogging, CallLoggingConfig, TARGET};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};
use tracing::Level;

fn routes(app: &mut Application) {
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
        r.get("/created", |call: ApplicationCall| async move {
            call.respond_with_status(StatusCode::CREATED, "made").await
        });
        r.get("/teapot", |call: ApplicationCall| async move {
            call.respond(OutgoingContent::text("t").with_status(StatusCode::IM_A_TEAPOT)).await
        });
        r.get("/fail", |_call: ApplicationCall| async move { Err(Error::internal("boom")) });
        r.get("/health", |call: ApplicationCall| async move { call.respond_text("ok").await });
    });
}

async fn app_with(configure: impl FnOnce(&mut CallLoggingConfig) + 'static) -> TestApplication {
    test_application(move |app| {
        app.install_with(CallLogging, configure);
        routes(app);
    })
    .await
}

#[tokio::test]
async fn each_call_logs_one_event_with_its_fields() {
    let app = app_with(|_| {}).await;
    let (events, ()) = plugin_logs::record(TARGET, async {
        assert_eq!(app.client().get("/").query("q", "1").send().await.status(), 200);
        assert_eq!(app.client().post("/").send().await.status(), 405);
        assert_eq!(app.client().get("/missing").send().await.status(), 404);
        assert_eq!(app.client().get("/fail").send().await.status(), 500);
        assert_eq!(app.client().get("/created").send().await.status(), 201);
        assert_eq!(app.client().get("/teapot").send().await.status(), 418);
    })
    .await;
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|event| (event.field("method").unwrap(), event.field("path").unwrap(), event.field("status").unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/", "200"),
            ("POST", "/", "405"),
            ("GET", "/missing", "404"),
            ("GET", "/fail", "500"),
            ("GET", "/created", "201"),
            ("GET", "/teapot", "418"),
        ]
    );
    for event in &events {
        assert_eq!(event.level, Level::INFO);
        assert!(event.field("duration_us").unwrap().parse::<u64>().is_ok());
        assert!(event.field("call_id").is_none(), "no CallId installed");
        assert!(event.field("message").is_some());
    }
    assert_eq!(events[0].field("message"), Some("GET / 200"));
}

#[tokio::test]
async fn the_call_id_is_a_field_when_call_id_is_installed() {
    let app = test_application(|app| {
        app.install(CallId, Default::default());
        app.install(CallLogging, Default::default());
        routes(app);
    })
    .await;
    let (events, ()) = plugin_logs::record(TARGET, async {
        app.client().get("/").header("X-Request-Id", "log-1").send().await;
        app.client().get("/fail").header("X-Request-Id", "log-2").send().await;
    })
    .await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].field("call_id"), Some("log-1"));
    assert_eq!(events[0].span_fields.get("call_id").map(String::as_str), Some("log-1"), "inside the call's span");
    assert_eq!(events[1].field("call_id"), Some("log-2"));
}

#[tokio::test]
async fn the_level_is_configurable() {
    let app = app_with(|config| {
        config.level(Level::DEBUG);
    })
    .await;
    let (events, _) = plugin_logs::record(TARGET, app.client().get("/").send()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Level::DEBUG);
}

#[tokio::test]
async fn filters_choose_the_calls_logged() {
    let app = app_with(|config| {
        config.filter(|call| call.request().path() != "/health").filter(|call| call.request().path() == "/health");
    })
    .await;
    let (events, _) = plugin_logs::record(TARGET, app.client().get("/health").send()).await;
    assert_eq!(events.len(), 1, "any filter that accepts logs the call");

    let app = app_with(|config| {
        config.filter(|call| call.request().path() != "/health");
    })
    .await;
    let (events, ()) = plugin_logs::record(TARGET, async {
        app.client().get("/health").send().await;
        app.client().get("/").send().await;
    })
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("path"), Some("/"));
}

#[tokio::test]
async fn a_failing_send_is_logged_once() {
    let app = test_application(|app| {
        app.install(CallLogging, Default::default());
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move {
                // Not renderable: the send pipeline fails, then the failure answer goes through it again.
                struct Opaque;
                call.respond(Opaque).await
            });
        });
    })
    .await;
    let (events, response) = plugin_logs::record(TARGET, app.client().get("/").send()).await;
    assert_eq!(response.status(), 500);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].field("status"), Some("500"));
}

#[tokio::test]
async fn the_remote_address_is_the_forwarded_one_when_known() {
    let app = test_application(|app| {
        app.install(rotor::plugins::forwarded_headers::XForwardedHeaders, Default::default());
        app.install(CallLogging, Default::default());
        routes(app);
    })
    .await;
    let (events, ()) = plugin_logs::record(TARGET, async {
        app.client().get("/").send().await;
        app.client().get("/").header("x-forwarded-for", "203.0.113.8").send().await;
    })
    .await;
    assert_eq!(events[0].field("remote"), Some("127.0.0.1"));
    assert_eq!(events[1].field("remote"), Some("203.0.113.8"));
}

/// A writer into a shared buffer, for a real `tracing_subscriber` formatter.
#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_real_formatter_shows_the_event_and_honours_its_level() {
    let app = test_application(|app| {
        app.install(CallLogging, Default::default());
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
            r.get("/quiet", |call: ApplicationCall| async move { call.respond_text("hi").await });
        });
    })
    .await;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        assert_eq!(app.client().get("/").send().await.status(), 200);
    }
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("INFO rotor::call_logging: GET / 200"), "{text}");
    assert!(text.contains("status=200"), "{text}");

    let app = app_with(|config| {
        config.level(Level::DEBUG);
    })
    .await;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt().with_max_level(Level::INFO).with_writer(move || writer.clone()).finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        assert_eq!(app.client().get("/").send().await.status(), 200);
    }
    assert!(buffer.0.lock().unwrap().is_empty(), "a DEBUG event is not written by an INFO subscriber");
}
