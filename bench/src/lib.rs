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
