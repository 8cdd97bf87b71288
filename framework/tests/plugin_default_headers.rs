//! DefaultHeaders: Date (cached per second), Server, headers of your own, never over the handler's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use rotor::http::header::{DATE, SERVER};
use rotor::plugins::default_headers::{DEFAULT_SERVER, DefaultHeaders};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

fn routes(app: &mut Application) {
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
        r.get("/own", |call: ApplicationCall| async move {
            call.response().set_header("server", "Mine/2")?;
            call.response().set_header("x-extra", "handler")?;
            call.respond_text("own").await
        });
        r.get("/content", |call: ApplicationCall| async move {
            call.respond(
                OutgoingContent::text("c").with_header(DATE, HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT")),
            )
            .await
        });
        r.get("/fail", |_call: ApplicationCall| async move { Err(Error::internal("boom")) });
    });
}

#[tokio::test]
async fn date_and_server_are_added_by_default() {
    let app = test_application(|app| {
        app.install(DefaultHeaders, Default::default());
        routes(app);
    })
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("server"), Some(DEFAULT_SERVER));
    assert!(DEFAULT_SERVER.starts_with("Rotor/"));
    let date = response.header("date").expect("a Date header");
    let parsed = httpdate::parse_http_date(date).expect("an HTTP date");
    let now = std::time::SystemTime::now();
    assert!(now.duration_since(parsed).unwrap_or_default() < Duration::from_secs(5), "{date} is now");
}

#[tokio::test]
async fn headers_the_handler_set_are_kept() {
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.header("x-extra", "default");
        });
        routes(app);
    })
    .await;
    let response = app.client().get("/own").send().await;
    assert_eq!(response.header("server"), Some("Mine/2"));
    assert_eq!(response.headers().get_all("x-extra").iter().count(), 1);
    assert_eq!(response.header("x-extra"), Some("handler"));

    let response = app.client().get("/content").send().await;
    assert_eq!(response.headers().get_all(DATE).iter().count(), 1);
    assert_eq!(response.header("date"), Some("Mon, 01 Jan 2024 00:00:00 GMT"), "content's own Date wins");
}

#[tokio::test]
async fn user_headers_reach_unhandled_and_failed_calls_with_every_value() {
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.header("x-a", "1").header("cache-control", "no-store").header("x-a", "2").no_server();
        });
        routes(app);
    })
    .await;
    for (path, status) in [("/", 200), ("/missing", 404), ("/fail", 500)] {
        let response = app.client().get(path).send().await;
        assert_eq!(response.status(), status, "{path}");
        let values: Vec<_> = response.headers().get_all("x-a").iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(values, ["1", "2"], "{path}");
        assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
        assert!(response.header("server").is_none(), "{path}: no_server");
        assert!(response.header("date").is_some(), "{path}");
    }
    let response = app.client().post("/").send().await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_default_content_type_applies_only_to_content_without_one() {
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.header("content-type", "text/html");
        });
        app.routing(|r| {
            r.get("/text", |call: ApplicationCall| async move { call.respond_text("t").await });
            r.get("/none", |call: ApplicationCall| async move { call.respond(StatusCode::NO_CONTENT).await });
        });
    })
    .await;
    assert_eq!(app.client().get("/text").send().await.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(app.client().get("/none").send().await.header("content-type"), Some("text/html"));
}

#[tokio::test]
async fn date_can_be_turned_off_and_the_server_renamed() {
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.date(false).server("Example/3");
        });
        routes(app);
    })
    .await;
    let response = app.client().get("/").send().await;
    assert!(response.header("date").is_none());
    assert_eq!(response.header("server"), Some("Example/3"));
}

#[tokio::test]
async fn calls_in_one_second_share_one_formatted_date() {
    let millis = Arc::new(AtomicU64::new(1_700_000_000_050));
    let clock = Arc::clone(&millis);
    let app = test_application(move |app| {
        app.install_with(DefaultHeaders, |config| {
            config.clock(move || UNIX_EPOCH + Duration::from_millis(clock.load(Ordering::SeqCst)));
        });
        routes(app);
    })
    .await;
    let first = app.client().get("/").send().await;
    millis.store(1_700_000_000_999, Ordering::SeqCst);
    let second = app.client().get("/").send().await;
    let (a, b) = (first.headers().get(DATE).unwrap(), second.headers().get(DATE).unwrap());
    assert_eq!(a, "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(a, b);
    assert_eq!(a.as_bytes().as_ptr(), b.as_bytes().as_ptr(), "one formatted value shared, not formatted per call");

    millis.store(1_700_000_001_000, Ordering::SeqCst);
    let third = app.client().get("/").send().await;
    assert_eq!(third.header("date"), Some("Tue, 14 Nov 2023 22:13:21 GMT"), "refreshed the next second");
}

#[tokio::test]
async fn invalid_headers_fail_the_install_naming_them() {
    let mut app = Application::default();
    let mut config = rotor::plugins::default_headers::DefaultHeadersConfig::default();
    config.header("bad name", "x");
    let error = app.try_install(DefaultHeaders, config).unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("bad name"), "{error}");

    let mut config = rotor::plugins::default_headers::DefaultHeadersConfig::default();
    config.header("x-ok", "line\nbreak");
    let error = app.try_install(DefaultHeaders, config).unwrap_err();
    assert!(error.to_string().contains("x-ok"), "{error}");
}

#[tokio::test]
async fn installs_on_a_route_too() {
    let app = TestApplication::builder()
        .module(|app| {
            app.routing(|r| {
                r.route("/api", |r| {
                    r.install(DefaultHeaders, Default::default());
                    r.get("/x", |call: ApplicationCall| async move { call.respond_text("x").await });
                });
                r.get("/plain", |call: ApplicationCall| async move { call.respond_text("p").await });
            });
        })
        .build()
        .unwrap();
    assert!(app.client().get("/api/x").send().await.headers().contains_key(SERVER));
    assert!(!app.client().get("/plain").send().await.headers().contains_key(SERVER));
}

/// Runs `GET /` through `app` as an engine does, its request marked as answered by an engine that writes `Date`
/// itself (or not), and returns the response as the engine takes it, without the `Content-Length` it would add.
async fn engine_call(app: &Arc<Application>, engine_writes_date: bool) -> rotor::http::Response<rotor::call::Body> {
    use rotor::call::{ApplicationRequest, Body};
    let head = rotor::http::Request::get("/").header("host", "t").body(()).unwrap().into_parts().0;
    let request = ApplicationRequest::new(head, None, None).with_engine_date(engine_writes_date);
    let call = ApplicationCall::new(Arc::clone(app), request, Body::empty());
    app.execute(&call).await.expect("answered");
    call.response().take_http_response_without_length().expect("committed")
}

#[tokio::test]
async fn date_is_left_to_an_engine_that_writes_it_unless_the_clock_is_ours() {
    let system = test_application(|app| {
        app.install(DefaultHeaders, Default::default());
        routes(app);
    })
    .await;
    let left = engine_call(system.application(), true).await;
    assert_eq!(left.headers().get(DATE), None, "the engine writes Date");
    assert_eq!(left.headers().get(SERVER).map(|v| v.to_str().unwrap()), Some(DEFAULT_SERVER));
    assert_eq!(left.headers().get("content-length"), None, "the engine writes the length");
    assert!(
        engine_call(system.application(), false).await.headers().get(DATE).is_some(),
        "an engine that does not: the plugin"
    );

    let fixed = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.clock(|| UNIX_EPOCH + Duration::from_secs(1_000_000_000));
        });
        routes(app);
    })
    .await;
    let own = engine_call(fixed.application(), true).await;
    assert_eq!(own.headers().get(DATE).map(|v| v.to_str().unwrap()), Some("Sun, 09 Sep 2001 01:46:40 GMT"));
}

/// Runs `GET path` through `app` as an engine that writes the head from the answer's parts does (rotor-cio).
async fn parts_executed(app: &Arc<Application>, path: &str) -> ApplicationCall {
    use rotor::call::{ApplicationRequest, Body};
    let head = rotor::http::Request::get(path).header("host", "t").body(()).unwrap().into_parts().0;
    let request = ApplicationRequest::new(head, None, None).with_engine_date(true).with_engine_parts(true);
    let call = ApplicationCall::new(Arc::clone(app), request, Body::empty());
    app.execute(&call).await.expect("answered");
    call
}

/// The answer to `GET path` as an engine that writes the head from the answer's parts takes it.
async fn parts_call(app: &Arc<Application>, path: &str) -> rotor::call::EngineResponse {
    parts_executed(app, path).await.response().take_engine_response().expect("committed")
}

fn field_values<'a>(response: &'a rotor::call::EngineResponse, name: &str) -> Vec<&'a str> {
    response.fields().filter(|(field, _)| field.as_str() == name).map(|(_, value)| value.to_str().unwrap()).collect()
}

#[tokio::test]
async fn an_engine_that_writes_the_parts_gets_the_defaults_aside_and_the_answer_own_fields_first() {
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            config.header("x-extra", "default").header("x-frame-options", "DENY").header("x-frame-options", "SAME");
        });
        routes(app);
        app.routing(|r| {
            r.get("/framed", |call: ApplicationCall| async move {
                call.respond(OutgoingContent::text("f").with_header(
                    rotor::http::HeaderName::from_static("x-frame-options"),
                    HeaderValue::from_static("content"),
                ))
                .await
            });
        });
    })
    .await;

    // Nothing looked at the map: it was never made, and the defaults come after the content type.
    let plain = parts_call(app.application(), "/").await;
    assert_eq!(plain.headers().len(), 0, "{plain:?}");
    assert_eq!(plain.headers().capacity(), 0, "no map allocated for an answer with no field of its own");
    let names: Vec<&str> = plain.fields().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["content-type", "server", "x-extra", "x-frame-options", "x-frame-options"]);
    assert_eq!(field_values(&plain, "x-frame-options"), ["DENY", "SAME"], "every value of a name");
    assert_eq!(field_values(&plain, "date"), Vec::<&str>::new(), "Date is the engine's");
    assert_eq!(plain.get(&SERVER).unwrap(), DEFAULT_SERVER, "get finds a default");
    assert_eq!(plain.get(&rotor::http::header::CONTENT_TYPE).unwrap(), "text/plain; charset=utf-8");
    assert_eq!(plain.get(&rotor::http::HeaderName::from_static("x-frame-options")).unwrap(), "DENY", "the first");
    assert!(plain.get(&DATE).is_none());

    // The handler's own fields win, one value each.
    let own = parts_call(app.application(), "/own").await;
    assert_eq!(field_values(&own, "server"), ["Mine/2"]);
    assert_eq!(field_values(&own, "x-extra"), ["handler"]);
    assert_eq!(own.get(&SERVER).unwrap(), "Mine/2", "get finds the response's own first");

    // So do the content's own.
    let framed = parts_call(app.application(), "/framed").await;
    assert_eq!(field_values(&framed, "x-frame-options"), ["content"]);
    assert_eq!(field_values(&framed, "server"), [DEFAULT_SERVER]);

    // As an http::Response: the same fields in one map.
    // Set aside, then taken as an http::Response all the same: merged under the content's own fields.
    let framed = parts_executed(app.application(), "/framed").await.response().take_http_response().expect("answered");
    let headers = framed.headers();
    assert_eq!(headers.get_all("x-frame-options").iter().collect::<Vec<_>>(), ["content"], "{headers:?}");
    assert_eq!(headers.get(SERVER).unwrap(), DEFAULT_SERVER);
    assert_eq!(headers.get("x-extra").unwrap(), "default");
    assert_eq!(headers.get("content-length").unwrap(), "1");

    let response = parts_call(app.application(), "/").await.into_http_response();
    assert_eq!(response.headers().get(SERVER).unwrap(), DEFAULT_SERVER);
    assert_eq!(response.headers().get_all("x-frame-options").iter().count(), 2);
    assert_eq!(response.headers().get("content-type").unwrap(), "text/plain; charset=utf-8");
}

#[tokio::test]
async fn defaults_set_aside_are_in_the_map_for_anything_that_looks() {
    use rotor::call::ApplicationSendPipeline;
    // An After-phase interceptor installed after DefaultHeaders sees (and may replace) its fields, as it did
    // when they were inserted at once.
    let app = test_application(|app| {
        app.install(DefaultHeaders, Default::default());
        app.send_pipeline_mut().intercept_sync(&ApplicationSendPipeline::AFTER, |ctx| {
            let call = ctx.call();
            let server = call.response().headers().get(SERVER).cloned();
            assert_eq!(server.as_ref().map(|v| v.to_str().unwrap()), Some(DEFAULT_SERVER), "seen by a later step");
            call.response().set_header("x-seen", server.unwrap_or(HeaderValue::from_static("none")))?;
            Ok(())
        });
        routes(app);
    })
    .await;
    let response = parts_call(app.application(), "/").await;
    assert_eq!(field_values(&response, "server"), [DEFAULT_SERVER], "once, from the map");
    assert_eq!(field_values(&response, "x-seen"), [DEFAULT_SERVER]);
    assert!(response.headers().contains_key(SERVER), "inserted when the map was looked at");
}

#[tokio::test]
async fn a_default_content_type_set_aside_applies_only_to_content_without_one() {
    let app =
        test_application(|app| {
            app.install_with(DefaultHeaders, |config| {
                config.header("content-type", "text/html").header("x-extra", "default");
            });
            app.routing(|r| {
                r.get("/text", |call: ApplicationCall| async move { call.respond_text("t").await });
                r.get("/none", |call: ApplicationCall| async move { call.respond(StatusCode::NO_CONTENT).await });
                r.get("/own", |call: ApplicationCall| async move {
                    call.respond(OutgoingContent::text("o").with_header(
                        rotor::http::HeaderName::from_static("x-extra"),
                        HeaderValue::from_static("content"),
                    ))
                    .await
                });
            });
        })
        .await;
    let text = parts_call(app.application(), "/text").await;
    assert_eq!(field_values(&text, "content-type"), ["text/plain; charset=utf-8"], "the content's type wins");
    assert_eq!(field_values(&text, "x-extra"), ["default"]);
    let none = parts_call(app.application(), "/none").await;
    assert_eq!(field_values(&none, "content-type"), ["text/html"], "a content without a type gets the default");
    assert_eq!(field_values(&none, "x-extra"), ["default"]);
    let own = parts_call(app.application(), "/own").await;
    assert_eq!(field_values(&own, "content-type"), ["text/plain; charset=utf-8"]);
    assert_eq!(field_values(&own, "x-extra"), ["content"], "a content with fields of its own wins");
}

#[tokio::test]
async fn more_defaults_than_a_mask_holds_are_inserted_for_an_engine_that_takes_the_parts() {
    // Over 64 names (one bit each) DefaultHeaders inserts into the map instead of setting them aside.
    let app = test_application(|app| {
        app.install_with(DefaultHeaders, |config| {
            for n in 0..70 {
                config.header(format!("x-default-{n}"), format!("{n}"));
            }
        });
        routes(app);
    })
    .await;
    let response = parts_call(app.application(), "/").await;
    for n in 0..70 {
        assert_eq!(field_values(&response, &format!("x-default-{n}")), [n.to_string()], "x-default-{n}");
    }
    assert_eq!(field_values(&response, "server"), [DEFAULT_SERVER]);
}
