//! Shared set-up for Rotor's criterion benchmarks (`cargo bench -p rotor-bench`).

pub mod routing;

use rotor::pipeline::{Pipeline, PipelinePhase};

/// The phase the pipeline benchmarks register into.
pub const MAIN: PipelinePhase = PipelinePhase::new("Main");

/// How interceptors are written in a benchmark pipeline.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `intercept_sync`: a ready step, no allocation.
    Sync,
    /// `intercept`: an async closure, its future boxed.
    Async,
}

/// A pipeline of `count` interceptors that do nothing (implicit proceed), plus, when `proceeding`, one first
/// interceptor that calls `proceed` and resumes after it.
pub fn noop_pipeline(count: usize, kind: Kind, proceeding: bool) -> Pipeline<u64, ()> {
    let mut pipeline = Pipeline::new([MAIN]);
    if proceeding {
        pipeline.intercept(&MAIN, |ctx| async move {
            ctx.proceed().await?;
            *ctx.subject() += 1;
            Ok(())
        });
    }
    for _ in 0..count {
        match kind {
            Kind::Sync => pipeline.intercept_sync(&MAIN, |_ctx| Ok(())),
            Kind::Async => pipeline.intercept(&MAIN, |_ctx| async { Ok(()) }),
        }
    }
    pipeline
}

/// A module answering `GET /plaintext` with `Hello, World!`, for whole-call benchmarks.
pub fn plaintext_module(app: &mut rotor::Application) {
    app.intercept(&rotor::application::ApplicationCallPipeline::CALL, |ctx| async move {
        ctx.call().respond_text("Hello, World!").await
    });
}

/// The JSON rendering benchmark's value: `{"message":"Hello, World!"}`.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Message {
    /// The greeting.
    pub message: &'static str,
}

/// The message every JSON benchmark sends.
pub const HELLO: Message = Message { message: "Hello, World!" };

/// An application with ContentNegotiation (JSON) installed, for the rendering benchmarks.
pub fn render_application() -> std::sync::Arc<rotor::Application> {
    let mut app = rotor::Application::default();
    app.install(rotor::plugins::content_negotiation::ContentNegotiation, Default::default());
    std::sync::Arc::new(app)
}

/// A fresh `GET /` call of `app`, with no body, as an engine makes it.
pub fn new_call(app: &std::sync::Arc<rotor::Application>) -> rotor::ApplicationCall {
    let head = rotor::http::Request::get("/").header("host", "localhost").body(()).expect("a valid request");
    let request = rotor::call::ApplicationRequest::new(head.into_parts().0, None, None);
    rotor::ApplicationCall::new(std::sync::Arc::clone(app), request, rotor::call::Body::empty())
}
