//! ConditionalHeaders: validators from the content, the response or providers; 304 and 412 per RFC 9110 §13.

use std::time::{Duration, UNIX_EPOCH};

use rotor::call::OutgoingContent;
use rotor::http::header::{CACHE_CONTROL, ETAG, EXPIRES, VARY};
use rotor::http::{HeaderValue, StatusCode};
use rotor::plugins::conditional_headers::{ConditionalHeaders, EntityTag, Version};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

const MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const EARLIER: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
const LATER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

fn content() -> OutgoingContent {
    OutgoingContent::text("body")
        .with_header(ETAG, HeaderValue::from_static("\"a\""))
        .with_header(CACHE_CONTROL, HeaderValue::from_static("max-age=60"))
        .with_header(VARY, HeaderValue::from_static("accept-language"))
        .with_header(EXPIRES, HeaderValue::from_static(LATER))
}

async fn app() -> TestApplication {
    test_application(|app: &mut Application| {
        app.install_with(ConditionalHeaders, |_| {});
        app.routing(|r| {
            r.get("/tagged", |call: ApplicationCall| async move { call.respond(content()).await });
            r.post("/tagged", |call: ApplicationCall| async move { call.respond(content()).await });
            r.put("/tagged", |call: ApplicationCall| async move { call.respond(content()).await });
            r.head("/tagged", |call: ApplicationCall| async move { call.respond(content()).await });
            r.get("/dated", |call: ApplicationCall| async move {
                call.response().set_header("last-modified", MODIFIED)?;
                call.respond_text("dated").await
            });
            r.post("/dated", |call: ApplicationCall| async move {
                call.response().set_header("last-modified", MODIFIED)?;
                call.respond_text("dated").await
            });
            r.get("/plain", |call: ApplicationCall| async move { call.respond_text("no validators").await });
            r.get("/missing", |call: ApplicationCall| async move {
                call.respond(content().with_status(StatusCode::NOT_FOUND)).await
            });
        });
    })
    .await
}

async fn status(app: &TestApplication, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = app.client().request(method.parse().unwrap(), path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.status().as_u16()
}

#[tokio::test]
async fn if_none_match_compares_weakly_and_answers_304_without_a_body() {
    let app = app().await;
    for value in ["\"a\"", "W/\"a\"", "\"x\", \"a\"", "*", "\"x\",W/\"a\""] {
        let res = app.client().get("/tagged").header("if-none-match", value).send().await;
        assert_eq!(res.status(), 304, "{value}");
        assert_eq!(res.header("etag"), Some("\"a\""));
        assert_eq!(res.header("cache-control"), Some("max-age=60"));
        assert_eq!(res.header("vary"), Some("accept-language"));
        assert_eq!(res.header("expires"), Some(LATER));
        assert_eq!(res.header("content-type"), None);
        assert_eq!(res.header("content-length"), None);
        assert!(res.bytes().await.is_empty());
    }
    assert_eq!(status(&app, "GET", "/tagged", &[("if-none-match", "\"b\"")]).await, 200);
    assert_eq!(status(&app, "GET", "/tagged", &[("if-none-match", "garbage")]).await, 200);
    assert_eq!(status(&app, "HEAD", "/tagged", &[("if-none-match", "\"a\"")]).await, 304);
}

#[tokio::test]
async fn if_none_match_on_other_methods_fails_the_precondition() {
    let app = app().await;
    assert_eq!(status(&app, "POST", "/tagged", &[("if-none-match", "\"a\"")]).await, 412);
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-none-match", "*")]).await, 412);
    assert_eq!(status(&app, "POST", "/tagged", &[("if-none-match", "\"b\"")]).await, 200);
}

#[tokio::test]
async fn if_match_compares_strongly() {
    let app = app().await;
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-match", "\"a\"")]).await, 200);
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-match", "\"b\", \"a\"")]).await, 200);
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-match", "*")]).await, 200);
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-match", "W/\"a\"")]).await, 412);
    assert_eq!(status(&app, "PUT", "/tagged", &[("if-match", "\"b\"")]).await, 412);
    assert_eq!(status(&app, "GET", "/tagged", &[("if-match", "\"b\"")]).await, 412);
    // No entity tag: only `*` can match.
    assert_eq!(status(&app, "GET", "/plain", &[("if-match", "\"a\"")]).await, 412);
    assert_eq!(status(&app, "GET", "/plain", &[("if-match", "*")]).await, 200);
}

#[tokio::test]
async fn if_modified_since_only_for_get_and_head_and_only_without_if_none_match() {
    let app = app().await;
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", MODIFIED)]).await, 304);
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", LATER)]).await, 304);
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", EARLIER)]).await, 200);
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT")]).await, 304);
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", "Sun Nov  6 08:49:37 1994")]).await, 304);
    assert_eq!(status(&app, "GET", "/dated", &[("if-modified-since", "not a date")]).await, 200);
    assert_eq!(status(&app, "POST", "/dated", &[("if-modified-since", MODIFIED)]).await, 200);
    let both = [("if-none-match", "\"other\""), ("if-modified-since", MODIFIED)];
    assert_eq!(status(&app, "GET", "/dated", &both).await, 200);
    assert_eq!(status(&app, "GET", "/plain", &[("if-modified-since", LATER)]).await, 200);
}

#[tokio::test]
async fn if_unmodified_since_only_without_if_match() {
    let app = app().await;
    assert_eq!(status(&app, "POST", "/dated", &[("if-unmodified-since", EARLIER)]).await, 412);
    assert_eq!(status(&app, "GET", "/dated", &[("if-unmodified-since", EARLIER)]).await, 412);
    assert_eq!(status(&app, "POST", "/dated", &[("if-unmodified-since", MODIFIED)]).await, 200);
    assert_eq!(status(&app, "POST", "/dated", &[("if-unmodified-since", "bogus")]).await, 200);
    let both = [("if-match", "*"), ("if-unmodified-since", EARLIER)];
    assert_eq!(status(&app, "POST", "/dated", &both).await, 200);
}

#[tokio::test]
async fn error_answers_are_not_conditional() {
    let app = app().await;
    assert_eq!(status(&app, "GET", "/missing", &[("if-none-match", "\"a\"")]).await, 404);
    assert_eq!(status(&app, "GET", "/missing", &[("if-match", "\"zzz\"")]).await, 404);
}

#[tokio::test]
async fn version_providers_compute_validators_per_call() {
    let app = test_application(|app: &mut Application| {
        app.install_with(ConditionalHeaders, |config| {
            config.version(|call, content| {
                let length = content.body().exact_len().unwrap_or(0);
                let tag = EntityTag::weak(format!("{}-{length}", call.request().path().len())).unwrap();
                vec![
                    Version::EntityTag(tag),
                    Version::LastModified(UNIX_EPOCH + Duration::from_millis(784_111_777_900)),
                ]
            });
            config.version(|_, _| vec![Version::EntityTag(EntityTag::strong("ignored").unwrap())]);
        });
        app.routing(|r| {
            r.get("/", |call: ApplicationCall| async move { call.respond_text("four").await });
            r.get("/own", |call: ApplicationCall| async move { call.respond(content()).await });
        });
    })
    .await;
    let res = app.client().get("/").send().await;
    assert_eq!(res.header("etag"), Some("W/\"1-4\""));
    assert_eq!(res.header("last-modified"), Some(MODIFIED));
    let res = app.client().get("/").header("if-none-match", "\"1-4\"").send().await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.header("last-modified"), Some(MODIFIED));
    // Weak tags never pass If-Match.
    assert_eq!(app.client().get("/").header("if-match", "W/\"1-4\"").send().await.status(), 412);
    assert_eq!(app.client().get("/").header("if-modified-since", MODIFIED).send().await.status(), 304);
    // The content's own ETag wins over the providers.
    assert_eq!(app.client().get("/own").send().await.header("etag"), Some("\"a\""));
}
