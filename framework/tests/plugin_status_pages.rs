//! StatusPages: handlers by error type and predicate, by status, for unhandled calls; no recursion.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rotor::plugins::status_pages::{StatusPages, StatusPagesConfig};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

#[derive(Debug)]
struct OutOfStock(u32);

impl fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} is out of stock", self.0)
    }
}

impl std::error::Error for OutOfStock {}

fn routes(app: &mut Application) {
    app.routing(|r| {
        r.get("/ok", |call: ApplicationCall| async move { call.respond_text("fine").await });
        r.get("/stock", |_call: ApplicationCall| async move { Err(OutOfStock(7).into()) });
        r.get("/io", |_call: ApplicationCall| async move { Err(std::io::Error::other("disk").into()) });
        r.get("/gone", |_call: ApplicationCall| async move { Err(Error::not_found("no such user")) });
        r.get("/bad", |_call: ApplicationCall| async move { Err(Error::bad_request("page must be a number")) });
        r.get("/explicit-404", |call: ApplicationCall| async move {
            call.respond_with_status(StatusCode::NOT_FOUND, "handler's own 404").await
        });
        r.post("/only-post", |call: ApplicationCall| async move { call.respond_text("posted").await });
    });
}

async fn app_with(configure: impl FnOnce(&mut StatusPagesConfig) + 'static) -> TestApplication {
    test_application(move |app| {
        app.install_with(StatusPages, configure);
        routes(app);
    })
    .await
}

#[tokio::test]
async fn errors_are_handled_by_their_cause_type() {
    let app = app_with(|config| {
        config.exception::<OutOfStock, _, _>(|call, error| async move {
            let item = error.downcast_ref::<OutOfStock>().map_or(0, |e| e.0);
            call.respond_with_status(StatusCode::CONFLICT, format!("out of stock: {item}")).await
        });
    })
    .await;
    let response = app.client().get("/stock").send().await;
    assert_eq!(response.status(), 409);
    assert!(response.error().is_none(), "the error was handled");
    assert_eq!(response.text().await, "out of stock: 7");

    let other = app.client().get("/io").send().await;
    assert_eq!(other.status(), 500, "an error of another type goes to the default handling");
    assert_eq!(app.client().get("/ok").send().await.status(), 200);
}

#[tokio::test]
async fn errors_are_handled_by_predicate_and_the_first_match_wins() {
    let app = app_with(|config| {
        config
            .error(Error::is_not_found, |call, error| async move {
                call.respond_with_status(StatusCode::NOT_FOUND, format!("custom: {}", error.message())).await
            })
            .error(|error| error.status().is_client_error(), |call, _error| async move {
                call.respond_with_status(StatusCode::BAD_REQUEST, "client error").await
            })
            .error(|_| true, |call, _error| async move {
                call.respond_with_status(StatusCode::SERVICE_UNAVAILABLE, "try later").await
            });
    })
    .await;
    assert_eq!(app.client().get("/gone").send().await.text().await, "custom: no such user");
    assert_eq!(app.client().get("/bad").send().await.text().await, "client error");
    let io = app.client().get("/io").send().await;
    assert_eq!(io.status(), 503);
    assert_eq!(io.text().await, "try later");
}

#[tokio::test]
async fn status_handlers_apply_to_unhandled_calls_and_explicit_statuses() {
    let app = app_with(|config| {
        config
            .status(StatusCode::NOT_FOUND, |call, status| async move {
                call.respond_with_status(status, format!("page {} not found", call.request().path())).await
            })
            .status(StatusCode::METHOD_NOT_ALLOWED, |call, status| async move {
                call.respond_with_status(status, "wrong method").await
            });
    })
    .await;
    let missing = app.client().get("/nowhere").send().await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await, "page /nowhere not found");

    let explicit = app.client().get("/explicit-404").send().await;
    assert_eq!(explicit.status(), 404);
    assert_eq!(explicit.text().await, "page /explicit-404 not found");

    let wrong = app.client().get("/only-post").send().await;
    assert_eq!(wrong.status(), 405);
    assert_eq!(wrong.header("allow"), Some("POST"), "the Allow header survives");
    assert_eq!(wrong.text().await, "wrong method");

    let error = app.client().get("/gone").send().await;
    assert_eq!(error.status(), 404);
    assert_eq!(error.text().await, "page /gone not found", "an error's answer is a response with a status too");
    assert_eq!(app.client().get("/ok").send().await.text().await, "fine");
}

#[tokio::test]
async fn a_status_handler_answers_with_its_status_unless_it_sets_another() {
    let app = app_with(|config| {
        config
            .status(StatusCode::NOT_FOUND, |call, _status| async move { call.respond_text("plain page").await })
            .status(StatusCode::METHOD_NOT_ALLOWED, |call, _status| async move {
                call.respond_with_status(StatusCode::NOT_FOUND, "moved to 404").await
            });
    })
    .await;
    let missing = app.client().get("/nowhere").send().await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await, "plain page");
    let wrong = app.client().get("/only-post").send().await;
    assert_eq!(wrong.status(), 404);
    assert_eq!(wrong.text().await, "moved to 404", "its own status, and no second handler");
}

#[tokio::test]
async fn a_status_handler_that_does_not_answer_keeps_the_response() {
    let seen = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&seen);
    let app = app_with(move |config| {
        config.status(StatusCode::NOT_FOUND, move |_call, _status| {
            count.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
    })
    .await;
    let response = app.client().get("/explicit-404").send().await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await, "handler's own 404");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_handler_answering_with_a_handled_status_does_not_recurse() {
    let calls = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&calls);
    let app = app_with(move |config| {
        config
            .status(StatusCode::NOT_FOUND, move |call, status| {
                count.fetch_add(1, Ordering::SeqCst);
                // Answers with the very status it handles.
                async move { call.respond_with_status(status, "404 page").await }
            })
            .exception::<OutOfStock, _, _>(|call, _error| async move {
                call.respond_with_status(StatusCode::NOT_FOUND, "from the error handler").await
            });
    })
    .await;
    let response = app.client().get("/nowhere").send().await;
    assert_eq!(response.text().await, "404 page");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let response = app.client().get("/stock").send().await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await, "from the error handler", "a StatusPages answer is sent as it is");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_handler_does_not_loop() {
    let errors = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&errors);
    let app = app_with(move |config| {
        config
            .error(
                |_| true,
                move |_call, _error| {
                    count.fetch_add(1, Ordering::SeqCst);
                    async { Err(Error::internal("the error handler failed")) }
                },
            )
            .status(StatusCode::NOT_FOUND, |_call, _status| async { Err(Error::internal("the 404 page failed")) })
            .status(StatusCode::INTERNAL_SERVER_ERROR, |call, status| async move {
                call.respond_with_status(status, "500 page").await
            });
    })
    .await;
    let response = app.client().get("/io").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(errors.load(Ordering::SeqCst), 1);
    assert_eq!(response.error().map(Error::message), Some("the error handler failed"));
    assert_eq!(response.text().await, "Internal Server Error", "no StatusPages handler applies twice");

    let response = app.client().get("/explicit-404").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(errors.load(Ordering::SeqCst), 1, "the 404 handler's error is not handled by StatusPages again");
}

#[tokio::test]
async fn an_error_handler_that_does_not_answer_leaves_the_default_answer_to_status_handlers() {
    let app = app_with(|config| {
        config
            .error(|_| true, |_call, _error| async { Ok(()) })
            .status(StatusCode::INTERNAL_SERVER_ERROR, |call, status| async move {
                call.respond_with_status(status, "500 page").await
            });
    })
    .await;
    let response = app.client().get("/io").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await, "500 page");
}

#[tokio::test]
async fn unhandled_calls_get_the_unhandled_handler() {
    let app = app_with(|config| {
        config
            .unhandled(|call| async move {
                if call.request().path() == "/pass" {
                    return Ok(());
                }
                call.respond_with_status(StatusCode::NOT_FOUND, "nothing handled this").await
            })
            .status(
                StatusCode::NOT_FOUND,
                |call, status| async move { call.respond_with_status(status, "404 page").await },
            );
    })
    .await;
    assert_eq!(app.client().get("/nowhere").send().await.text().await, "nothing handled this");
    let passed = app.client().get("/pass").send().await;
    assert_eq!(passed.status(), 404);
    assert_eq!(passed.text().await, "404 page", "not answered by the unhandled handler: the status handler applies");
    assert_eq!(app.client().get("/ok").send().await.text().await, "fine");
}

#[tokio::test]
async fn errors_after_the_response_are_left_alone() {
    let app = test_application(|app| {
        app.install_with(StatusPages, |config| {
            config.error(|_| true, |call, _error| async move { call.respond_text("handled").await });
        });
        app.routing(|r| {
            r.get("/late", |call: ApplicationCall| async move {
                call.respond_text("first").await?;
                Err(Error::internal("after the response"))
            });
        });
    })
    .await;
    let response = app.client().get("/late").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await, "first");
}

#[tokio::test]
async fn a_status_a_handler_sets_without_responding_is_answered_before_the_unhandled_handler_runs() {
    let app = test_application(|app| {
        app.install_with(StatusPages, |config| {
            config
                .unhandled(|call| async move { call.respond_with_status(StatusCode::NOT_FOUND, "unhandled").await })
                .status(StatusCode::ACCEPTED, |call, status| async move {
                    call.respond_with_status(status, "202 page").await
                });
        });
        app.routing(|r| {
            r.get("/queued", |call: ApplicationCall| async move {
                call.response().set_status(StatusCode::ACCEPTED);
                Ok(())
            });
            r.route("/guarded", |r| {
                // A route-level interceptor that refuses without responding.
                r.intercept(&ApplicationCallPipeline::PLUGINS, |ctx| async move {
                    ctx.call().response().set_status(StatusCode::UNAUTHORIZED);
                    ctx.finish();
                    Ok(())
                });
                r.get("", |call: ApplicationCall| async move { call.respond_text("secret").await });
            });
        });
    })
    .await;
    let queued = app.client().get("/queued").send().await;
    assert_eq!(queued.status(), 202, "answered in the Call phase, not left to the unhandled handler");
    assert_eq!(queued.text().await, "202 page", "through the send pipeline, where StatusPages sees it");
    let guarded = app.client().get("/guarded").send().await;
    assert_eq!(guarded.status(), 401);
    let missing = app.client().get("/missing").send().await;
    assert_eq!(missing.text().await, "unhandled", "no route matched: the unhandled handler still applies");
}
