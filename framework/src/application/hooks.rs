//! Hooks: the points in a call's life a plugin can attach to (Ktor's `Hook`s).

use std::future::Future;
use std::sync::Arc;

use super::ApplicationCallPipeline;
use crate::call::{ApplicationCall, ApplicationSendPipeline};
use crate::pipeline::PipelinePhase;
use crate::{Error, Result};

/// A point in a call's life that a plugin can attach a handler of type `H` to, with
/// [`PluginBuilder::on`](super::PluginBuilder::on). Implement it to make hooks of your own.
///
/// ```
/// use rotor::application::{create_application_plugin, CallFailed, CallSetup, ResponseSent};
///
/// const AUDIT: rotor::application::ApplicationPlugin<()> = create_application_plugin("Audit", |plugin, _config| {
///     plugin.on(CallSetup, |call| async move { tracing::debug!(path = call.request().path(), "call started"); Ok(()) });
///     plugin.on(CallFailed, |call, error| async move {
///         tracing::warn!(path = call.request().path(), %error, "call failed");
///         Ok(())
///     });
///     plugin.on(ResponseSent, |call| async move { tracing::debug!(handled = call.is_handled(), "sent"); Ok(()) });
///     Ok(())
/// });
///
/// let mut app = rotor::Application::default();
/// app.install(AUDIT, ());
/// ```
pub trait Hook<H> {
    /// Registers `handler` on `pipeline`.
    ///
    /// # Errors
    /// If the pipeline lacks a phase the hook needs.
    fn install(self, pipeline: &mut ApplicationCallPipeline, handler: H) -> Result<()>;
}

/// Runs when a call starts, in the Setup phase, before every other phase.
#[derive(Clone, Copy, Debug)]
pub struct CallSetup;

impl<F, Fut> Hook<F> for CallSetup
where
    F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    fn install(self, pipeline: &mut ApplicationCallPipeline, handler: F) -> Result<()> {
        pipeline.try_intercept(&ApplicationCallPipeline::SETUP, move |ctx| handler(ctx.call().clone()))
    }
}

/// Runs when an error escapes any phase of the call, with the call and the error. If the handler answers the
/// call, the error is handled; otherwise it goes on to the default failure handling (a mapped status). A
/// handler that fails itself replaces the error with its own, so a failing handler never loops.
#[derive(Clone, Copy, Debug)]
pub struct CallFailed;

/// The phase [`CallFailed`] handlers run in: before Setup, so that they wrap every other phase.
pub const CALL_FAILED_PHASE: PipelinePhase = PipelinePhase::new("BeforeSetup");

impl<F, Fut> Hook<F> for CallFailed
where
    F: Fn(ApplicationCall, Error) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    fn install(self, pipeline: &mut ApplicationCallPipeline, handler: F) -> Result<()> {
        pipeline.pipeline_mut().try_insert_phase_before(&ApplicationCallPipeline::SETUP, CALL_FAILED_PHASE)?;
        let handler = Arc::new(handler);
        pipeline.try_intercept(&CALL_FAILED_PHASE, move |ctx| {
            let handler = Arc::clone(&handler);
            async move {
                let Err(error) = ctx.proceed().await else { return Ok(()) };
                let call = ctx.call().clone();
                handler(call.clone(), error.clone()).await?;
                if call.is_handled() { Ok(()) } else { Err(error) }
            }
        })
    }
}

/// Runs once the response has been committed for the engine to write, in the send pipeline's Engine phase.
#[derive(Clone, Copy, Debug)]
pub struct ResponseSent;

impl<F, Fut> Hook<F> for ResponseSent
where
    F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    fn install(self, pipeline: &mut ApplicationCallPipeline, handler: F) -> Result<()> {
        let handler = Arc::new(handler);
        pipeline.send_pipeline_mut().try_intercept(&ApplicationSendPipeline::ENGINE, move |ctx| {
            let handler = Arc::clone(&handler);
            async move {
                ctx.proceed().await?;
                handler(ctx.call().clone()).await
            }
        })
    }
}
