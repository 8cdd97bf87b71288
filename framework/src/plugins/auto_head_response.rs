//! The AutoHeadResponse plugin: HEAD requests answered by GET routes, without the body.

use std::sync::Arc;

use http::header::CONTENT_LENGTH;
use http::{HeaderValue, Method};

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationSendPipeline, Body, OutgoingContent, ResponseValue};
use crate::pipeline::in_place;
use crate::routing::HEAD_AS_GET;

/// Answers `HEAD` requests from the `GET` routes (Ktor's `AutoHeadResponse`): the same status and headers as
/// the `GET` would have, including `Content-Length` when the body's length is known, and no body. A route
/// declared with `head(…)` still wins over the `GET` route of the same path.
///
/// Install it on the application (it marks each call before routing resolves it). The `GET` handler runs as
/// usual; the body it responds with is dropped unread, after the ContentEncoding phase, so the headers are the
/// ones a `GET` would get (compressed or not) and a streaming body is never produced.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::auto_head_response::AutoHeadResponse;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.install(AutoHeadResponse, ());
///     app.routing(|r| {
///         r.get("/", |call: ApplicationCall| async move { call.respond_text("Hello").await });
///     });
/// })
/// .await;
/// let res = app.client().head("/").send().await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.header("content-length"), Some("5"));
/// assert_eq!(res.text().await, "");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoHeadResponse;

impl Plugin for AutoHeadResponse {
    type Config = ();
    type Instance = ();

    fn key(&self) -> &'static str {
        "AutoHeadResponse"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, _config: ()) -> Result<Arc<()>> {
        plugin.on_call(|call| {
            if call.request().method() == Method::HEAD {
                call.attributes().put(&HEAD_AS_GET, ());
            }
            async { Ok(()) }
        });
        plugin
            .pipeline_mut()
            .send_pipeline_mut()
            .add_interceptor(&ApplicationSendPipeline::AFTER, in_place(drop_body))?;
        Ok(Arc::new(()))
    }
}

/// For a HEAD request: keeps the length the body had, then drops the body.
fn drop_body(subject: &mut ResponseValue, call: &ApplicationCall) -> Result<()> {
    if call.request().method() != Method::HEAD {
        return Ok(());
    }
    let Some(content) = subject.content_mut() else { return Ok(()) };
    let length = content.body().exact_len();
    if let Some(length) = length {
        if length > 0 && !content.headers().contains_key(CONTENT_LENGTH) {
            content.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
    }
    if let Some(content) = subject.take::<OutgoingContent>() {
        // A body of unknown length stays of unknown length (an empty stream), so no `Content-Length: 0` is made up.
        let empty = match length {
            Some(_) => Body::empty(),
            None => Body::from_stream(futures_util::stream::empty::<Result<bytes::Bytes>>()),
        };
        *subject = ResponseValue::from(content.map_body(|_| empty));
    }
    Ok(())
}
