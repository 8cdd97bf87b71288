//! CallId: read, generate, verify, echo, store, and put into log events.

mod plugin_logs;

use std::sync::atomic::{AtomicU64, Ordering};

use rotor::plugins::call_id::{CALL_ID, CallId, call_id};
use rotor::prelude::*;
use rotor_test::test_application;

fn echo_id(app: &mut Application) {
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move {
            tracing::info!(target: "app", "handling");
            let id = call_id(&call).unwrap_or_default();
            call.respond_text(id).await
        });
        r.get("/fail", |_call: ApplicationCall| async move { Err(Error::internal("boom")) });
    });
}

async fn app_with(
    configure: impl FnOnce(&mut rotor::plugins::call_id::CallIdConfig) + 'static,
) -> rotor_test::TestApplication {
    test_application(move |app| {
        app.install_with(CallId, configure);
        echo_id(app);
    })
    .await
}

#[tokio::test]
async fn a_valid_incoming_id_is_kept_stored_and_echoed() {
    let app = app_with(|_| {}).await;
    let response = app.client().get("/").header("X-Request-Id", "req-42").send().await;
    assert_eq!(response.header("x-request-id"), Some("req-42"));
    assert_eq!(response.text().await, "req-42");
}

#[tokio::test]
async fn a_missing_id_is_generated_as_a_uuid_and_echoed() {
    let app = app_with(|_| {}).await;
    let response = app.client().get("/").send().await;
    let header = response.header("x-request-id").expect("echoed").to_owned();
    let body = response.text().await;
    assert_eq!(header, body);
    let uuid = uuid::Uuid::parse_str(&body).expect("a UUID");
    assert_eq!(uuid.get_version_num(), 4);
    let other = app.client().get("/").send().await;
    assert_ne!(other.header("x-request-id"), Some(header.as_str()), "a new id per call");
}

#[tokio::test]
async fn invalid_incoming_ids_are_replaced() {
    let app = app_with(|_| {}).await;
    let long = "x".repeat(129);
    for bad in ["", "has space", long.as_str(), "tab\there"] {
        let response = app.client().get("/").header("X-Request-Id", bad).send().await;
        assert_eq!(response.status(), 200);
        let echoed = response.header("x-request-id").unwrap().to_owned();
        assert_ne!(echoed, bad);
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "{bad:?} replaced by a generated id");
    }
    let max = "y".repeat(128);
    let response = app.client().get("/").header("X-Request-Id", max.as_str()).send().await;
    assert_eq!(response.header("x-request-id"), Some(max.as_str()), "128 characters are fine");
}

#[tokio::test]
async fn invalid_ids_can_be_rejected_with_400() {
    let app = app_with(|config| {
        config.reject_invalid(true);
    })
    .await;
    let response = app.client().get("/").header("X-Request-Id", "bad id").send().await;
    assert_eq!(response.status(), 400);
    assert!(response.header("x-request-id").is_some(), "the rejected call still has an id for the logs");
    assert!(response.error().unwrap().is_bad_request());
    let fine = app.client().get("/").header("X-Request-Id", "good").send().await;
    assert_eq!(fine.status(), 200);
    assert_eq!(app.client().get("/").send().await.status(), 200, "a missing id is generated, not rejected");
}

#[tokio::test]
async fn header_generator_verifier_and_echo_are_configurable() {
    let app = app_with(|config| {
        let counter = AtomicU64::new(0);
        config
            .header("X-Trace")
            .generate(move || format!("gen-{}", counter.fetch_add(1, Ordering::SeqCst)))
            .verify(|id| id.starts_with("t-"));
    })
    .await;
    let response = app.client().get("/").header("X-Trace", "t-1").send().await;
    assert_eq!(response.header("x-trace"), Some("t-1"));
    assert!(response.header("x-request-id").is_none());
    let response = app.client().get("/").header("X-Trace", "other").send().await;
    assert_eq!(response.header("x-trace"), Some("gen-0"));
    assert_eq!(response.text().await, "gen-0");

    let quiet = app_with(|config| {
        config.echo(false);
    })
    .await;
    let response = quiet.client().get("/").header("X-Request-Id", "q").send().await;
    assert!(response.header("x-request-id").is_none());
    assert_eq!(response.text().await, "q", "stored even when not echoed");
}

#[tokio::test]
async fn failed_and_unhandled_calls_are_echoed_too() {
    let app = app_with(|_| {}).await;
    let failed = app.client().get("/fail").header("X-Request-Id", "f-1").send().await;
    assert_eq!(failed.status(), 500);
    assert_eq!(failed.header("x-request-id"), Some("f-1"));
    let missing = app.client().get("/missing").header("X-Request-Id", "m-1").send().await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.header("x-request-id"), Some("m-1"));
}

#[tokio::test]
async fn events_during_the_call_carry_the_call_id() {
    let app = app_with(|_| {}).await;
    let (events, response) =
        plugin_logs::record("app", app.client().get("/").header("X-Request-Id", "span-7").send()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].span_fields.get("call_id").map(String::as_str), Some("span-7"));
}

#[tokio::test]
async fn the_attribute_is_public() {
    let app = test_application(|app| {
        app.install(CallId, Default::default());
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move {
                let id = call.attributes().get(&CALL_ID).cloned();
                call.respond_text(id.unwrap_or_default()).await
            });
        });
    })
    .await;
    assert_eq!(app.client().get("/").header("x-request-id", "a").send().await.text().await, "a");
}
