//! Rotor's first example: `GET /` answers `Hello, world!` as text and `POST /echo` answers the request body
//! back.

use rotor::prelude::*;

/// The hello module: install it into an application (`rotor_test::test_application(hello::module)`, or an
/// engine once one is configured).
pub fn module(app: &mut Application) {
    app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
        let call = ctx.call();
        match (call.request().method(), call.request().path()) {
            (&Method::GET, "/") => call.respond_text("Hello, world!").await,
            (&Method::POST, "/echo") => echo(call).await,
            _ => Ok(()), // unhandled: answered 404 after the Fallback phase
        }
    });
}

/// Answers the request body back, with the request's content type.
async fn echo(call: &ApplicationCall) -> Result<()> {
    let content_type = call.request().headers().get("content-type").cloned();
    let body: Body = call.receive().await?;
    let content =
        OutgoingContent::new(body, content_type.or(Some(HeaderValue::from_static("application/octet-stream"))));
    call.respond(content).await
}
