//! Rotor's first example: `GET /` answers `Hello, world!` as text and `POST /echo` answers the request body
//! back, streaming it.

use rotor::prelude::*;

/// The hello module: install it into an application (`rotor_test::test_application(hello::module)`, or run
/// it with `embedded_server` or `EngineMain`; see the binaries).
pub fn module(app: &mut Application) {
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move { call.respond_text("Hello, world!").await });
        r.post("/echo", echo);
    });
}

/// Answers the request body back as it arrives, with the request's content type.
async fn echo(call: ApplicationCall) -> Result<()> {
    let content_type = call.request().headers().get("content-type").cloned();
    let body: Body = call.receive().await?;
    let content_type = content_type.unwrap_or(HeaderValue::from_static("application/octet-stream"));
    call.respond(OutgoingContent::new(body, Some(content_type))).await
}
