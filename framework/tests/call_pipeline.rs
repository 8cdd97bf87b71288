//! The application call pipeline, end to end through the in-memory engine: phases, fallback, failure rules.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};
use support::count_events;

type Trail = Arc<Mutex<Vec<&'static str>>>;

fn record(app: &mut Application, trail: &Trail, phase: &rotor::pipeline::PipelinePhase, name: &'static str) {
    let trail = Arc::clone(trail);
    app.intercept(phase, move |_ctx| {
        trail.lock().unwrap().push(name);
        async { Ok(()) }
    });
}

#[tokio::test]
async fn phases_run_in_ktor_order_and_features_is_plugins() {
    let trail = Trail::default();
    let recorded = Arc::clone(&trail);
    let app = test_application(move |app| {
        record(app, &recorded, &ApplicationCallPipeline::FALLBACK, "fallback");
        record(app, &recorded, &ApplicationCallPipeline::CALL, "call");
        record(app, &recorded, &ApplicationCallPipeline::FEATURES, "features");
        record(app, &recorded, &ApplicationCallPipeline::PLUGINS, "plugins");
        record(app, &recorded, &ApplicationCallPipeline::MONITORING, "monitoring");
        record(app, &recorded, &ApplicationCallPipeline::SETUP, "setup");
    })
    .await;
    app.client().get("/").send().await;
    assert_eq!(*trail.lock().unwrap(), ["setup", "monitoring", "features", "plugins", "call", "fallback"]);
}

#[tokio::test]
async fn an_unhandled_call_answers_404_with_an_empty_body() {
    let app = test_application(|_app| {}).await;
    let response = app.client().get("/nothing/here").send().await;
    assert_eq!(response.status(), 404);
    assert!(response.error().is_none());
    assert_eq!(response.header("content-length"), Some("0"));
    assert_eq!(response.text().await, "");
}

#[tokio::test]
async fn a_status_recorded_for_an_unhandled_call_is_answered_after_fallback() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            ctx.call().set_unhandled_status(StatusCode::METHOD_NOT_ALLOWED, Some(HeaderValue::from_static("GET")));
            Ok(())
        });
    })
    .await;
    let response = app.client().post("/").send().await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("GET"));
}

#[tokio::test]
async fn a_fallback_interceptor_can_still_answer_an_unhandled_call() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            ctx.call().set_unhandled_status(StatusCode::METHOD_NOT_ALLOWED, None);
            Ok(())
        });
        app.intercept(&ApplicationCallPipeline::FALLBACK, |ctx| async move {
            ctx.call().respond_with_status(StatusCode::IM_A_TEAPOT, "custom fallback").await
        });
    })
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 418);
    assert_eq!(response.text().await, "custom fallback");
}

fn failing_with(error: fn() -> Error) -> impl FnOnce(&mut Application) + 'static {
    move |app: &mut Application| {
        app.intercept(&ApplicationCallPipeline::CALL, move |_ctx| async move { Err(error()) });
    }
}

#[tokio::test]
async fn errors_escaping_a_handler_answer_their_mapped_status() {
    let cases: [(fn() -> Error, u16); 7] = [
        (|| Error::bad_request("bad"), 400),
        (|| Error::not_found("missing"), 404),
        (|| Error::not_acceptable("no"), 406),
        (|| Error::payload_too_large("big"), 413),
        (|| Error::unsupported_media_type("type"), 415),
        (|| Error::timeout("slow"), 504),
        (|| Error::internal("broken"), 500),
    ];
    for (error, status) in cases {
        let app = test_application(failing_with(error)).await;
        let response = app.client().get("/").send().await;
        assert_eq!(response.status(), status);
        assert_eq!(response.error().map(Error::status).map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn converted_std_errors_answer_500_and_elapsed_timeouts_504() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            if ctx.call().request().path() == "/timeout" {
                tokio::time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await?;
            }
            let number: u32 = "x".parse()?;
            ctx.call().respond_text(number.to_string()).await
        });
    })
    .await;
    let response = app.client().get("/parse").send().await;
    assert_eq!(response.status(), 500);
    assert!(response.error().unwrap().downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(app.client().get("/timeout").send().await.status(), 504);
}

#[tokio::test]
async fn client_errors_carry_their_message_and_server_errors_do_not_leak_it() {
    let app = test_application(failing_with(|| Error::bad_request("parameter `id` is missing"))).await;
    assert_eq!(app.client().get("/").send().await.text().await, "parameter `id` is missing");

    let app = test_application(failing_with(|| Error::internal("password=hunter2 rejected by db"))).await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await, "Internal Server Error");

    let app = TestApplication::builder()
        .development(true)
        .module(failing_with(|| Error::internal("db unreachable")))
        .build()
        .unwrap();
    assert_eq!(app.client().get("/").send().await.text().await, "db unreachable");
}

#[tokio::test(flavor = "current_thread")]
async fn an_escaped_error_is_logged_exactly_once_and_the_application_goes_on() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::MONITORING, |ctx| async move {
            // An interceptor that proceeds and passes the error on must not cause a second log line.
            ctx.proceed().await
        });
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            if ctx.call().request().path() == "/fail" {
                return Err(Error::internal("boom"));
            }
            ctx.call().respond_text("fine").await
        });
    })
    .await;
    let (logged, response) = count_events("rotor::call", app.client().get("/fail").send()).await;
    assert_eq!(response.status(), 500);
    assert_eq!(logged, 1, "the failure is logged once");
    let next = app.client().get("/ok").send().await;
    assert_eq!(next.status(), 200);
    assert_eq!(next.text().await, "fine");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_application_goes_on() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            if ctx.call().request().path() == "/panic" {
                panic!("handler bug");
            }
            ctx.call().respond_text("alive").await
        });
    })
    .await;
    let response = app.client().get("/panic").send().await;
    assert_eq!(response.status(), 500);
    let error = response.error().unwrap();
    assert!(error.is_panic());
    assert!(error.to_string().contains("handler bug"), "{error}");
    assert_eq!(app.client().get("/").send().await.text().await, "alive");
}

#[tokio::test]
async fn a_panic_comes_out_of_an_earlier_proceed_as_an_error() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::MONITORING, |ctx| async move {
            if let Err(error) = ctx.proceed().await {
                assert!(error.is_panic());
                ctx.call().respond_with_status(StatusCode::SERVICE_UNAVAILABLE, "recovered").await?;
            }
            Ok(())
        });
        app.intercept(&ApplicationCallPipeline::CALL, |_ctx| async move { panic!("deep") });
    })
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 503);
    assert!(response.error().is_none());
    assert_eq!(response.text().await, "recovered");
}

#[tokio::test]
async fn an_error_after_responding_keeps_the_response_and_reports_the_error() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            ctx.call().respond_text("sent").await?;
            Err(Error::internal("cleanup failed"))
        });
    })
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.error().unwrap().message(), "cleanup failed");
    assert_eq!(response.text().await, "sent");
}

#[tokio::test]
async fn a_handler_that_never_finishes_fails_the_test_instead_of_hanging_it() {
    let app = TestApplication::builder()
        .call_timeout(Duration::from_millis(50))
        .module(|app| {
            app.intercept(&ApplicationCallPipeline::CALL, |_ctx| async move {
                std::future::pending::<()>().await;
                Ok(())
            });
        })
        .build()
        .unwrap();
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 504);
    assert!(response.error().unwrap().is_timeout());
}

#[tokio::test]
async fn interceptors_in_the_call_pipeline_can_wrap_the_rest() {
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::MONITORING, |ctx| async move {
            ctx.call().response().set_header("x-before", "1")?;
            ctx.proceed().await?;
            // On the way out, the response is committed.
            assert!(ctx.call().is_handled());
            Ok(())
        });
        app.intercept(&ApplicationCallPipeline::PLUGINS, |ctx| async move {
            ctx.call().respond_text("early").await?;
            ctx.finish();
            Ok(())
        });
        app.intercept(&ApplicationCallPipeline::CALL, |_ctx| async move { panic!("finish() must stop this") });
    })
    .await;
    let response = app.client().get("/").send().await;
    assert!(response.error().is_none(), "{:?}", response.error());
    assert_eq!(response.header("x-before"), Some("1"));
    assert_eq!(response.text().await, "early");
}

#[tokio::test]
async fn a_panicking_route_handler_answers_500_and_an_earlier_proceed_sees_the_panic() {
    // A route whose merged pipeline holds only its handlers runs them without executing that pipeline; a
    // panic there must still come out as a panic error, through an application interceptor's `proceed`.
    let app = test_application(|app| {
        app.intercept(&ApplicationCallPipeline::MONITORING, |ctx| async move {
            let outcome = ctx.proceed().await;
            if let Err(error) = &outcome {
                assert!(error.is_panic(), "{error}");
                assert!(error.to_string().contains("route handler bug"), "{error}");
            }
            outcome
        });
        app.routing(|r| {
            r.get("/{name}", |call: ApplicationCall| async move {
                if call.request().path() == "/panic" {
                    panic!("route handler bug");
                }
                call.respond_text("alive").await
            });
        });
    })
    .await;
    let response = app.client().get("/panic").send().await;
    assert_eq!(response.status(), 500);
    let error = response.error().unwrap();
    assert!(error.is_panic());
    assert!(error.to_string().contains("route handler bug"), "{error}");
    assert_eq!(app.client().get("/ok").send().await.text().await, "alive");
}

/// What an engine sees: `CallExecution::call()` is the call before, during and after the execution, whether
/// the call pipeline ran without a shared state (routing only), over one (an async interceptor, which keeps a
/// handle to it here), or ended in an answer for an unhandled or failed call.
#[tokio::test]
async fn a_call_execution_shows_its_call_at_every_stage() {
    use rotor::call::{ApplicationRequest, Body};
    use rotor::pipeline::PipelineContext;

    type Kept = Arc<Mutex<Vec<PipelineContext<(), ApplicationCall>>>>;
    let kept = Kept::default();
    let cases =
        [(false, "/", 200), (false, "/missing", 404), (false, "/fail", 500), (true, "/", 200), (true, "/fail", 500)];
    for (keeps, path, status) in cases {
        let mut app = Application::default();
        if keeps {
            let kept = Arc::clone(&kept);
            app.intercept(&ApplicationCallPipeline::PLUGINS, move |ctx| {
                kept.lock().unwrap().push(ctx);
                async { Ok(()) }
            });
        }
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
            r.get("/fail", |_call: ApplicationCall| async move { Err(rotor::Error::internal("failed")) });
        });
        let head = rotor::http::Request::get(path).body(()).unwrap().into_parts().0;
        let call = ApplicationCall::new(Arc::new(app), ApplicationRequest::new(head, None, None), Body::empty());
        let mut execution = call.execute();
        assert_eq!(execution.call().request().path(), path);
        let outcome = (&mut execution).await;
        assert_eq!(outcome.is_err(), status == 500, "{path}: {outcome:?}");
        assert_eq!(execution.call().request().path(), path, "after the execution");
        assert!(execution.call().is_handled());
        let response = execution.call().response().take_http_response().unwrap();
        assert_eq!(response.status(), status, "{path}, a kept context: {keeps}");
    }
    assert_eq!(kept.lock().unwrap().len(), 2, "the async interceptor ran for both calls");
}
