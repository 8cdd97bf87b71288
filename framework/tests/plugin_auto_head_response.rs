//! AutoHeadResponse: HEAD answered by GET routes, with the GET's headers and no body.

use bytes::Bytes;
use rotor::plugins::auto_head_response::AutoHeadResponse;
use rotor::prelude::*;
use rotor_test::test_application;

fn module(app: &mut Application) {
    app.install(AutoHeadResponse, ());
    app.routing(|r| {
        r.get("/text", |call: ApplicationCall| async move {
            call.response().set_header("x-custom", "yes")?;
            call.respond_text("Hello, world").await
        });
        r.get("/stream", |call: ApplicationCall| async move {
            let chunks = ["a", "b"].map(|chunk| Ok::<_, std::io::Error>(Bytes::from(chunk)));
            call.respond(Body::from_stream(futures_util::stream::iter(chunks))).await
        });
        r.get("/explicit", |call: ApplicationCall| async move { call.respond_text("get").await });
        r.head("/explicit", |call: ApplicationCall| async move {
            call.response().set_header("x-from", "head")?;
            call.respond(StatusCode::NO_CONTENT).await
        });
        r.post("/post-only", |call: ApplicationCall| async move { call.respond_text("posted").await });
        r.get("/missing", |call: ApplicationCall| async move {
            call.respond(OutgoingContent::text("gone").with_status(StatusCode::NOT_FOUND)).await
        });
    });
}

#[tokio::test]
async fn head_gets_the_get_headers_and_no_body() {
    let app = test_application(module).await;
    let res = app.client().head("/text").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("12"));
    assert_eq!(res.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(res.header("x-custom"), Some("yes"));
    assert!(res.bytes().await.is_empty());
    assert_eq!(app.client().get("/text").send().await.text().await, "Hello, world");
}

#[tokio::test]
async fn a_stream_of_unknown_length_has_no_content_length() {
    let app = test_application(module).await;
    let res = app.client().head("/stream").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), None);
    assert!(res.bytes().await.is_empty());
}

#[tokio::test]
async fn an_explicit_head_route_wins() {
    let app = test_application(module).await;
    let res = app.client().head("/explicit").send().await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("x-from"), Some("head"));
}

#[tokio::test]
async fn statuses_carry_over_and_other_methods_are_not_allowed() {
    let app = test_application(module).await;
    assert_eq!(app.client().head("/missing").send().await.status(), 404);
    let res = app.client().head("/post-only").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("POST"));
    assert_eq!(app.client().head("/nowhere").send().await.status(), 404);
}

#[tokio::test]
async fn without_the_plugin_head_does_not_match_get() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/text", |call: ApplicationCall| async move { call.respond_text("x").await });
        });
    })
    .await;
    assert_eq!(app.client().head("/text").send().await.status(), 405);
}

#[cfg(feature = "compression")]
#[tokio::test]
async fn head_of_a_compressed_response_has_the_compressed_headers() {
    use rotor::plugins::compression::Compression;
    let app = test_application(|app| {
        app.install(AutoHeadResponse, ());
        app.install(Compression, Default::default());
        app.routing(|r| {
            r.get("/big", |call: ApplicationCall| async move { call.respond_text("text ".repeat(100)).await });
        });
    })
    .await;
    let res = app.client().head("/big").header("accept-encoding", "gzip").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(res.header("content-length"), None);
    assert!(res.bytes().await.is_empty());
}

#[test]
fn resolution_treats_head_as_get_only_when_asked() {
    use rotor::environment::ApplicationEnvironment;
    use rotor::routing::{Resolution, RoutingRequest};

    let mut root = Route::root(ApplicationEnvironment::default());
    root.get("/a", |call| async move { call.respond_text("get").await });
    root.get("/b", |call| async move { call.respond_text("get").await });
    root.head("/b", |call| async move { call.respond(StatusCode::NO_CONTENT).await });
    let head = |path| RoutingRequest::new(&Method::HEAD, path);
    let Resolution::Matched(matched) = root.resolve(&head("/a").head_as_get(true)).unwrap() else { panic!("no match") };
    assert_eq!(matched.route().path(), "/a/(method:GET)");
    let Resolution::Matched(matched) = root.resolve(&head("/b").head_as_get(true)).unwrap() else { panic!("no match") };
    assert_eq!(matched.route().path(), "/b/(method:HEAD)");
    let Resolution::Failed(failed) = root.resolve(&head("/a")).unwrap() else { panic!("matched") };
    assert_eq!(failed.status(), 405);
}
