//! CachingHeaders: options by content type and by route, never over what the handler set, with 304s.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rotor::call::OutgoingContent;
use rotor::http::HeaderValue;
use rotor::http::header::{CACHE_CONTROL, ETAG};
use rotor::plugins::caching_headers::{CacheControl, CachingHeaders, CachingOptions, Visibility};
use rotor::plugins::conditional_headers::ConditionalHeaders;
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

fn typed(content_type: &'static str) -> OutgoingContent {
    OutgoingContent::new(rotor::call::Body::from("x"), Some(HeaderValue::from_static(content_type)))
        .with_header(ETAG, HeaderValue::from_static("\"e\""))
}

async fn app() -> TestApplication {
    test_application(|app: &mut Application| {
        app.install(ConditionalHeaders, Default::default());
        app.install_with(CachingHeaders, |config| {
            config
                .content_type(
                    "text/css",
                    CachingOptions::new(CacheControl::max_age(3600).visibility(Visibility::Public)),
                )
                .content_type(
                    "image/*",
                    CachingOptions::new(CacheControl::max_age(86_400).immutable())
                        .expires_at(UNIX_EPOCH + Duration::from_secs(784_111_777)),
                )
                .options(|call, _content| {
                    call.request()
                        .path()
                        .starts_with("/soon")
                        .then(|| CachingOptions::new(CacheControl::no_cache()).expires_in(Duration::from_secs(120)))
                });
        });
        app.routing(|r| {
            r.get("/css", |call: ApplicationCall| async move { call.respond(typed("text/css; charset=utf-8")).await });
            r.get("/png", |call: ApplicationCall| async move { call.respond(typed("image/png")).await });
            r.get("/plain", |call: ApplicationCall| async move { call.respond(typed("text/plain")).await });
            r.get("/soon", |call: ApplicationCall| async move { call.respond_text("soon").await });
            r.get("/own", |call: ApplicationCall| async move {
                call.response().set_header("cache-control", "no-store")?;
                call.respond(typed("text/css")).await
            });
            r.get("/own-content", |call: ApplicationCall| async move {
                let content = typed("image/png").with_header(CACHE_CONTROL, HeaderValue::from_static("max-age=1"));
                call.respond(content).await
            });
            r.route("/account", |r| {
                r.install_with(CachingHeaders, |config| {
                    config.options(|_, _| {
                        Some(CachingOptions::new(CacheControl::no_store().visibility(Visibility::Private)))
                    });
                });
                r.get("/css", |call: ApplicationCall| async move { call.respond(typed("text/css")).await });
            });
        });
    })
    .await
}

#[tokio::test]
async fn options_by_content_type() {
    let app = app().await;
    let css = app.client().get("/css").send().await;
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(css.header("expires"), None);
    let png = app.client().get("/png").send().await;
    assert_eq!(png.header("cache-control"), Some("max-age=86400, immutable"));
    assert_eq!(png.header("expires"), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    let plain = app.client().get("/plain").send().await;
    assert_eq!((plain.header("cache-control"), plain.header("expires")), (None, None));
}

#[tokio::test]
async fn relative_expiry_is_an_http_date_in_the_future() {
    let app = app().await;
    let res = app.client().get("/soon").send().await;
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    let expires = httpdate::parse_http_date(res.header("expires").unwrap()).unwrap();
    let ahead = expires.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(ahead > Duration::from_secs(100) && ahead <= Duration::from_secs(120), "{ahead:?}");
}

#[tokio::test]
async fn what_the_handler_set_is_kept() {
    let app = app().await;
    assert_eq!(app.client().get("/own").send().await.header("cache-control"), Some("no-store"));
    let res = app.client().get("/own-content").send().await;
    assert_eq!(res.header("cache-control"), Some("max-age=1"));
    // Expires was not set by the handler: it is still added.
    assert_eq!(res.header("expires"), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
}

#[tokio::test]
async fn a_route_installation_wins_on_its_route() {
    let app = app().await;
    let res = app.client().get("/account/css").send().await;
    assert_eq!(res.header("cache-control"), Some("private, no-store"));
}

#[tokio::test]
async fn not_modified_answers_keep_the_caching_headers() {
    let app = app().await;
    let res = app.client().get("/png").header("if-none-match", "\"e\"").send().await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.header("cache-control"), Some("max-age=86400, immutable"));
    assert_eq!(res.header("expires"), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
}
