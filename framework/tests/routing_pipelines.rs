//! Routes as pipelines: route-scoped interceptors and plugins, the merged-pipeline cache, the trace.

use std::sync::{Arc, Mutex};

use rotor::application::{ApplicationPlugin, create_application_plugin};
use rotor::call::{ApplicationSendPipeline, OutgoingContent};
use rotor::prelude::*;
use rotor_test::test_application;

type Trail = Arc<Mutex<Vec<&'static str>>>;

fn record(route: &mut Route, trail: &Trail, phase: &rotor::pipeline::PipelinePhase, name: &'static str) {
    let trail = Arc::clone(trail);
    route.intercept(phase, move |_ctx| {
        trail.lock().unwrap().push(name);
        async { Ok(()) }
    });
}

#[tokio::test]
async fn phase_order_beats_nesting_and_parents_run_first_within_a_phase() {
    let trail = Trail::default();
    let recorded = Arc::clone(&trail);
    let app = test_application(move |app| {
        app.routing(|r| {
            record(r, &recorded, &ApplicationCallPipeline::CALL, "root call");
            r.route("/parent", |r| {
                record(r, &recorded, &ApplicationCallPipeline::CALL, "parent call");
                record(r, &recorded, &ApplicationCallPipeline::PLUGINS, "parent plugins");
                r.route("/child", |r| {
                    record(r, &recorded, &ApplicationCallPipeline::PLUGINS, "child plugins");
                    record(r, &recorded, &ApplicationCallPipeline::SETUP, "child setup");
                    let done = Arc::clone(&recorded);
                    r.get("", move |call: ApplicationCall| {
                        done.lock().unwrap().push("handler");
                        async move { call.respond_text("ok").await }
                    });
                });
            });
        });
    })
    .await;
    assert_eq!(app.client().get("/parent/child").send().await.text().await, "ok");
    assert_eq!(
        *trail.lock().unwrap(),
        ["child setup", "parent plugins", "child plugins", "root call", "parent call", "handler"]
    );
}

#[tokio::test]
async fn route_interceptors_apply_to_their_subtree_only() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/admin", |r| {
                r.intercept(&ApplicationCallPipeline::PLUGINS, |ctx| async move {
                    if ctx.call().request().header("x-admin") != Some("yes") {
                        ctx.call().respond(StatusCode::FORBIDDEN).await?;
                        ctx.finish();
                    }
                    Ok(())
                });
                r.get("/panel", |call: ApplicationCall| async move { call.respond_text("panel").await });
            });
            r.get("/public", |call: ApplicationCall| async move { call.respond_text("public").await });
        });
    })
    .await;
    assert_eq!(app.client().get("/admin/panel").send().await.status(), 403);
    assert_eq!(app.client().get("/admin/panel").header("x-admin", "yes").send().await.text().await, "panel");
    assert_eq!(app.client().get("/public").send().await.text().await, "public");
}

const SHOUT: ApplicationPlugin<()> = create_application_plugin("Shout", |plugin, _config| {
    plugin.on_call(|call| async move { call.response().set_header("x-shout", "on") });
    plugin.on_call_respond(|ctx| async move {
        let text = ctx.subject().downcast_ref::<&'static str>().map(|text| text.to_uppercase());
        if let Some(text) = text {
            *ctx.subject() = rotor::call::ResponseValue::new(OutgoingContent::text(text));
        }
        Ok(())
    });
    Ok(())
});

#[tokio::test]
async fn route_scoped_plugins_apply_to_their_subtree_with_their_send_pipeline() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/loud", |r| {
                r.install(SHOUT, ());
                r.get("/hi", |call: ApplicationCall| async move { call.respond("hi").await });
            });
            r.get("/quiet", |call: ApplicationCall| async move { call.respond("hi").await });
        });
    })
    .await;
    let response = app.client().get("/loud/hi").send().await;
    assert_eq!(response.header("x-shout"), Some("on"));
    assert_eq!(response.text().await, "HI");
    let response = app.client().get("/quiet").send().await;
    assert_eq!(response.header("x-shout"), None);
    assert_eq!(response.text().await, "hi");
    let root = rotor::routing::routing_root(app.application()).unwrap();
    assert!(root.find("/loud").unwrap().plugin(&SHOUT).is_some());
    assert!(app.application().plugin(&SHOUT).is_none(), "installed on the route, not the application");
}

#[tokio::test]
async fn installing_the_same_plugin_twice_on_a_route_keeps_the_first() {
    let mut app = Application::default();
    app.routing(|r| {
        let first = r.install(SHOUT, ());
        let second = r.install(SHOUT, ());
        assert!(Arc::ptr_eq(&first, &second));
    });
}

#[tokio::test]
async fn route_send_interceptors_run_after_the_applications() {
    let trail = Trail::default();
    let recorded = Arc::clone(&trail);
    let app = test_application(move |app| {
        let app_trail = Arc::clone(&recorded);
        app.send_pipeline_mut().intercept(&ApplicationSendPipeline::TRANSFORM, move |_ctx| {
            app_trail.lock().unwrap().push("app transform");
            async { Ok(()) }
        });
        app.routing(|r| {
            let route_trail = Arc::clone(&recorded);
            r.route("/r", |r| {
                r.send_pipeline_mut().intercept(&ApplicationSendPipeline::TRANSFORM, move |_ctx| {
                    route_trail.lock().unwrap().push("route transform");
                    async { Ok(()) }
                });
                r.get("", |call: ApplicationCall| async move { call.respond_text("r").await });
            });
        });
    })
    .await;
    assert_eq!(app.client().get("/r").send().await.text().await, "r");
    assert_eq!(*trail.lock().unwrap(), ["app transform", "route transform"]);
}

#[tokio::test]
async fn the_merged_pipeline_is_built_once_per_leaf_and_reused() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/cached", |r| {
                r.install(SHOUT, ());
                r.get("/{id}", |call: ApplicationCall| async move { call.respond("x").await });
            });
            r.get("/other", |call: ApplicationCall| async move { call.respond_text("o").await });
        });
    })
    .await;
    let root = rotor::routing::routing_root(app.application()).unwrap();
    let leaf = root.find("/cached/{id}").unwrap().children().first().unwrap();
    assert!(leaf.cached_pipelines().is_none(), "nothing is built before the first call");
    assert_eq!(app.client().get("/cached/1").send().await.text().await, "X");
    let first = Arc::clone(leaf.cached_pipelines().expect("built by the first call"));
    assert!(first.has_route_pipelines());
    assert_eq!(app.client().get("/cached/2").send().await.text().await, "X");
    assert!(Arc::ptr_eq(&first, leaf.cached_pipelines().unwrap()), "the second call reuses it");
    let other = root.find("/other").unwrap().children().first().unwrap();
    assert!(other.cached_pipelines().is_none(), "other leaves are built only when reached");
    app.client().get("/other").send().await;
    assert!(!other.cached_pipelines().unwrap().has_route_pipelines(), "no route send pipeline: the app's is used");
}

#[tokio::test]
async fn an_error_in_a_handler_is_answered_as_usual() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/fail", |_call: ApplicationCall| async move { Err(rotor::Error::not_found("no such thing")) });
            r.get("/panic", |_call: ApplicationCall| async move { panic!("boom") });
        });
    })
    .await;
    let response = app.client().get("/fail").send().await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await, "no such thing");
    assert_eq!(app.client().get("/panic").send().await.status(), 500);
}

#[tokio::test]
async fn development_mode_keeps_the_trace_and_explains_a_404() {
    let app = rotor_test::TestApplication::builder()
        .development(true)
        .module(|app| {
            app.routing(|r| {
                r.route("/users/{id}", |r| {
                    r.get("", |call: ApplicationCall| async move {
                        let trace = rotor::routing::route_trace(&call).expect("kept in development mode");
                        call.respond_text(trace.to_string()).await
                    });
                    r.get("/posts", |call: ApplicationCall| async move { call.respond_text("posts").await });
                });
                r.get("/about", |call: ApplicationCall| async move { call.respond_text("about").await });
            });
        })
        .build()
        .unwrap();
    let trace = app.client().get("/users/7").send().await.text().await;
    assert!(trace.contains("/users/{id}, segment:1 -> MATCHED (quality 0.8)"), "{trace}");
    assert!(trace.contains("Result: MATCHED /users/{id}/(method:GET)"), "{trace}");

    let response = app.client().get("/users/7/postz").send().await;
    assert_eq!(response.status(), 404);
    let page = response.text().await;
    assert!(page.contains("Closest routes:\n  /users/{id}/(method:GET)\n  /users/{id}/posts/(method:GET)"), "{page}");
    assert!(page.contains("Routing trace:"), "{page}");

    let response = app.client().post("/about").send().await;
    assert_eq!(response.status(), 405, "only 404s get the page");
    assert_eq!(response.text().await, "");
}

#[tokio::test]
async fn without_development_mode_no_trace_is_kept_and_a_404_is_empty() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move {
                let kept = rotor::routing::route_trace(&call).is_some();
                call.respond_text(format!("{kept}")).await
            });
        });
    })
    .await;
    assert_eq!(app.client().get("/").send().await.text().await, "false");
    assert_eq!(app.client().get("/x").send().await.text().await, "");
}

#[test]
fn resolving_without_a_call() {
    use rotor::routing::{Resolution, RoutingRequest, TraceOutcome};
    let mut root = Route::root(rotor::environment::ApplicationEnvironment::default());
    for i in 0..1000 {
        root.get(&format!("/c{i}"), |call: ApplicationCall| async move { call.respond_text("c").await });
    }
    root.get("/{p}", |call: ApplicationCall| async move { call.respond_text("p").await });
    let Resolution::Matched(matched) = root.resolve(&RoutingRequest::new(&Method::GET, "/c999")).unwrap() else {
        panic!("no match");
    };
    assert_eq!(matched.route().path(), "/c999/(method:GET)");
    assert_eq!(matched.quality(), 1.0);
    let Resolution::Matched(matched) = root.resolve(&RoutingRequest::new(&Method::GET, "/zzz")).unwrap() else {
        panic!("no match");
    };
    assert_eq!(matched.parameters().get("p"), Some("zzz"));
    assert_eq!(matched.quality(), 0.8);
    let (_, trace) = root.resolve_traced(&RoutingRequest::new(&Method::GET, "/c5")).unwrap();
    let tried = trace.entries().iter().filter(|entry| matches!(entry.outcome, TraceOutcome::Matched { .. })).count();
    assert!(tried <= 5, "constant siblings are indexed, not tried one by one: {trace}");
    assert!(root.resolve(&RoutingRequest::new(&Method::GET, "/%zz")).is_err());
}

#[test]
fn the_root_path_prefixes_every_route() {
    use rotor::routing::{Resolution, RoutingRequest};
    let environment = rotor::environment::ApplicationEnvironment::builder().root_path("/app").build();
    let mut root = Route::root(environment);
    root.get("/x", |call: ApplicationCall| async move { call.respond_text("x").await });
    assert!(matches!(root.resolve(&RoutingRequest::new(&Method::GET, "/app/x")).unwrap(), Resolution::Matched(_)));
    let Resolution::Failed(failed) = root.resolve(&RoutingRequest::new(&Method::GET, "/x")).unwrap() else {
        panic!("matched without the root path");
    };
    assert_eq!(failed.status(), 404);
}
