//! `respond` and `receive` through the send and receive pipelines.

use bytes::Bytes;
use futures_util::stream;
use rotor::call::{ApplicationSendPipeline, ResponseValue};
use rotor::prelude::*;
use rotor_test::test_application;

/// A module whose Call phase runs `handler` for every request.
fn handle<F, Fut>(handler: F) -> impl FnOnce(&mut Application) + 'static
where
    F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    move |app: &mut Application| {
        app.intercept(&ApplicationCallPipeline::CALL, move |ctx| handler(ctx.call().clone()));
    }
}

#[tokio::test]
async fn text_renders_as_utf8_plain_text() {
    let app = test_application(handle(|call| async move { call.respond(String::from("héllo")).await })).await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(response.header("content-length"), Some("6"));
    assert_eq!(response.text().await, "héllo");

    let app = test_application(handle(|call| async move { call.respond("static").await })).await;
    assert_eq!(app.client().get("/").send().await.text().await, "static");
}

#[tokio::test]
async fn bytes_render_as_octet_stream() {
    let app = test_application(handle(|call| async move {
        match call.request().path() {
            "/vec" => call.respond(vec![1u8, 2, 3]).await,
            _ => call.respond(Bytes::from_static(&[0xff, 0x00])).await,
        }
    }))
    .await;
    let response = app.client().get("/vec").send().await;
    assert_eq!(response.header("content-type"), Some("application/octet-stream"));
    assert_eq!(response.bytes().await, [1u8, 2, 3][..]);
    assert_eq!(app.client().get("/bytes").send().await.bytes().await, [0xffu8, 0x00][..]);
}

#[tokio::test]
async fn a_status_code_renders_as_an_empty_response_with_that_status() {
    let app = test_application(handle(|call| async move { call.respond(StatusCode::NO_CONTENT).await })).await;
    let response = app.client().delete("/item").send().await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.header("content-length"), None, "204 carries no Content-Length");
    assert_eq!(response.text().await, "");
}

#[tokio::test]
async fn a_stream_of_bytes_renders_without_a_known_length() {
    let app = test_application(handle(|call| async move {
        let chunks = (1..=3).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("chunk{i};"))));
        call.respond(Body::from_stream(stream::iter(chunks))).await
    }))
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.text().await, "chunk1;chunk2;chunk3;");
}

#[tokio::test]
async fn respond_with_status_and_response_headers_reach_the_client() {
    let app = test_application(handle(|call| async move {
        call.response().append_header("x-trace", "abc")?;
        call.respond_with_status(StatusCode::CREATED, "made").await
    }))
    .await;
    let response = app.client().post("/").send().await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("x-trace"), Some("abc"));
    assert_eq!(response.text().await, "made");
}

#[tokio::test]
async fn an_unrenderable_value_is_an_error_naming_its_type() {
    struct Invoice;
    let app = test_application(handle(|call| async move { call.respond(Invoice).await })).await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 500);
    let error = response.error().unwrap();
    assert!(error.is_cannot_render());
    assert!(error.to_string().contains("Invoice"), "{error}");
}

#[tokio::test]
async fn responding_twice_is_an_error() {
    let app = test_application(handle(|call| async move {
        call.respond_text("first").await?;
        let second = call.respond_text("second").await.unwrap_err();
        assert!(second.is_response_already_sent());
        Err(second)
    }))
    .await;
    let response = app.client().get("/").send().await;
    assert!(response.error().unwrap().is_response_already_sent());
    assert_eq!(response.text().await, "first");
}

#[tokio::test]
async fn a_transform_interceptor_can_render_a_value_of_its_own_type() {
    struct Temperature(f64);
    let app = test_application(|app| {
        app.send_pipeline_mut().intercept(&ApplicationSendPipeline::TRANSFORM, |ctx| async move {
            let celsius = ctx.subject().take::<Temperature>().map(|Temperature(c)| c);
            if let Some(celsius) = celsius {
                *ctx.subject() = ResponseValue::new(format!("{celsius:.1} °C"));
            }
            Ok(())
        });
        app.intercept(
            &ApplicationCallPipeline::CALL,
            |ctx| async move { ctx.call().respond(Temperature(21.25)).await },
        );
    })
    .await;
    assert_eq!(app.client().get("/").send().await.text().await, "21.2 °C");
}

#[tokio::test]
async fn the_body_is_received_as_text_bytes_or_a_stream() {
    let app = test_application(handle(|call| async move {
        match call.request().path() {
            "/text" => {
                let text: String = call.receive().await?;
                call.respond_text(text.to_uppercase()).await
            }
            "/bytes" => {
                let bytes: Bytes = call.receive().await?;
                call.respond_text(format!("{} bytes", bytes.len())).await
            }
            "/vec" => {
                let bytes: Vec<u8> = call.receive().await?;
                call.respond_text(format!("{:?}", bytes)).await
            }
            _ => {
                let body: Body = call.receive().await?;
                call.respond(body).await
            }
        }
    }))
    .await;
    let client = app.client();
    assert_eq!(client.post("/text").text("shout").send().await.text().await, "SHOUT");
    assert_eq!(client.post("/bytes").body(vec![0u8; 1000]).send().await.text().await, "1000 bytes");
    assert_eq!(client.post("/vec").body(vec![7u8, 8]).send().await.text().await, "[7, 8]");
    let streamed = Body::from_stream(stream::iter([Ok::<_, std::io::Error>(Bytes::from("a")), Ok(Bytes::from("b"))]));
    assert_eq!(client.post("/stream").body(streamed).send().await.text().await, "ab");
}

#[tokio::test]
async fn an_empty_body_is_received_as_empty_text() {
    let app =
        test_application(handle(
            |call| async move { call.respond_text(format!("[{}]", call.receive_text().await?)).await },
        ))
        .await;
    assert_eq!(app.client().post("/").send().await.text().await, "[]");
}

#[tokio::test]
async fn receiving_an_unsupported_type_is_415_naming_the_type() {
    #[derive(Debug)]
    struct Order;
    let app = test_application(handle(|call| async move {
        let _order: Order = call.receive().await?;
        call.respond_text("never").await
    }))
    .await;
    let response = app.client().post("/").text("{}").send().await;
    assert_eq!(response.status(), 415);
    let error = response.error().unwrap();
    assert!(error.is_unsupported_media_type());
    assert!(error.to_string().contains("Order"), "{error}");
}

#[tokio::test]
async fn text_that_is_not_utf8_is_a_bad_request() {
    let app = test_application(handle(|call| async move { call.respond_text(call.receive_text().await?).await })).await;
    let response = app.client().post("/").body(vec![b'o', b'k', 0xff]).send().await;
    assert_eq!(response.status(), 400);
    assert!(response.error().unwrap().to_string().contains("offset 2"));
}

#[tokio::test]
async fn text_in_another_charset_is_refused_rather_than_misread() {
    let app = test_application(handle(|call| async move { call.respond_text(call.receive_text().await?).await })).await;
    let response =
        app.client().post("/").header("content-type", "text/plain; charset=ISO-8859-1").body("x").send().await;
    assert_eq!(response.status(), 415);
    let response =
        app.client().post("/").header("content-type", "text/plain; charset=\"UTF-8\"").body("ok").send().await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_body_can_be_received_once() {
    let app = test_application(handle(|call| async move {
        let _first = call.receive_text().await?;
        call.receive_text().await.map(drop)
    }))
    .await;
    let response = app.client().post("/").text("x").send().await;
    assert_eq!(response.status(), 500);
    assert!(response.error().unwrap().to_string().contains("already been received"));
}

#[tokio::test]
async fn a_receive_interceptor_can_convert_the_body_to_its_own_type() {
    #[derive(Debug, PartialEq)]
    struct Csv(Vec<String>);
    let app = test_application(|app| {
        app.receive_pipeline_mut().intercept(&rotor::call::ApplicationReceivePipeline::TRANSFORM, |ctx| async move {
            let body = {
                let mut subject = ctx.subject();
                if !subject.is_requested::<Csv>() {
                    return Ok(());
                }
                subject.take_value::<Body>()
            };
            if let Some(body) = body {
                let text = String::from_utf8(body.collect().await?.to_vec())?;
                ctx.subject().set_value(Csv(text.split(',').map(str::to_owned).collect()));
            }
            Ok(())
        });
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let Csv(fields) = ctx.call().receive::<Csv>().await?;
            ctx.call().respond_text(fields.join("|")).await
        });
    })
    .await;
    assert_eq!(app.client().post("/").body("a,b,c").send().await.text().await, "a|b|c");
}

#[tokio::test]
async fn content_headers_replace_response_headers_of_the_same_name() {
    use rotor::http::header::{CACHE_CONTROL, ETAG, VARY};
    let app = test_application(handle(|call| async move {
        call.response().set_header("etag", "\"from-the-response\"")?;
        call.response().set_header("cache-control", "no-store")?;
        let content = OutgoingContent::text("tagged")
            .with_header(ETAG, HeaderValue::from_static("\"v2\""))
            .with_header(VARY, HeaderValue::from_static("accept-encoding"));
        call.respond(content).await
    }))
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.header(ETAG.as_str()), Some("\"v2\""));
    assert_eq!(response.header(VARY.as_str()), Some("accept-encoding"));
    assert_eq!(response.header(CACHE_CONTROL.as_str()), Some("no-store"), "other response headers stay");
    assert_eq!(response.headers().get_all(ETAG).iter().count(), 1);
}
