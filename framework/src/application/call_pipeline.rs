//! `ApplicationCallPipeline`: the phases a call goes through, with its send and receive pipelines.

use std::fmt;
use std::future::Future;

use std::sync::Arc;

use super::plugin::{Lookup, PluginRegistry};
use super::{Plugin, PluginBuilder};
use crate::Result;
use crate::call::{ApplicationCall, ApplicationReceivePipeline, ApplicationSendPipeline};
use crate::environment::ApplicationEnvironment;
use crate::pipeline::{Pipeline, PipelineContext, PipelinePhase};

/// The context of an interceptor of the call pipeline: no subject, the call as context.
pub type CallContext = PipelineContext<(), ApplicationCall>;

impl<S> PipelineContext<S, ApplicationCall> {
    /// The call this execution is for.
    pub fn call(&self) -> &ApplicationCall {
        self.context()
    }
}

/// The pipeline every call runs through (Ktor's `ApplicationCallPipeline`): phases
/// [`SETUP`](Self::SETUP), [`MONITORING`](Self::MONITORING), [`PLUGINS`](Self::PLUGINS) (also reachable as
/// [`FEATURES`](Self::FEATURES), its Ktor 1 name), [`CALL`](Self::CALL) and [`FALLBACK`](Self::FALLBACK), plus
/// the [send](Self::send_pipeline) and [receive](Self::receive_pipeline) pipelines and the plugins installed on
/// it. The [`Application`](super::Application) is one; so is every route.
///
/// ```
/// use rotor::application::{Application, ApplicationCallPipeline};
///
/// let mut app = Application::default();
/// app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
///     ctx.call().respond_text("from the Call phase").await
/// });
/// assert_eq!(app.pipeline().interceptor_count(&ApplicationCallPipeline::CALL), 1);
/// assert_eq!(ApplicationCallPipeline::FEATURES, ApplicationCallPipeline::PLUGINS);
/// ```
pub struct ApplicationCallPipeline {
    pipeline: Pipeline<(), ApplicationCall>,
    send: ApplicationSendPipeline,
    receive: ApplicationReceivePipeline,
    pub(crate) plugins: PluginRegistry,
}

impl fmt::Debug for ApplicationCallPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationCallPipeline")
            .field("pipeline", &self.pipeline)
            .field("send", &self.send)
            .field("receive", &self.receive)
            .field("plugins", &self.plugins)
            .finish()
    }
}

impl Default for ApplicationCallPipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl ApplicationCallPipeline {
    /// Preparing the call and its attributes.
    pub const SETUP: PipelinePhase = PipelinePhase::new("Setup");
    /// Tracing calls: logging, metrics, error handling.
    pub const MONITORING: PipelinePhase = PipelinePhase::new("Monitoring");
    /// Infrastructure plugins; most plugins intercept here.
    pub const PLUGINS: PipelinePhase = PipelinePhase::new("Plugins");
    /// The Ktor 1 name of [`PLUGINS`](Self::PLUGINS): the same phase.
    pub const FEATURES: PipelinePhase = Self::PLUGINS;
    /// Processing the call and responding (routing runs here).
    pub const CALL: PipelinePhase = PipelinePhase::new("Call");
    /// Handling calls nothing else handled.
    pub const FALLBACK: PipelinePhase = PipelinePhase::new("Fallback");

    /// The five phases, the send and receive pipelines with their phases, no interceptors and no plugins.
    pub fn new() -> Self {
        ApplicationCallPipeline {
            pipeline: Pipeline::new([Self::SETUP, Self::MONITORING, Self::PLUGINS, Self::CALL, Self::FALLBACK]),
            send: ApplicationSendPipeline::standard(),
            receive: ApplicationReceivePipeline::standard(),
            plugins: PluginRegistry::default(),
        }
    }

    /// The call pipeline itself.
    pub fn pipeline(&self) -> &Pipeline<(), ApplicationCall> {
        &self.pipeline
    }

    /// The call pipeline, for changes.
    pub fn pipeline_mut(&mut self) -> &mut Pipeline<(), ApplicationCall> {
        &mut self.pipeline
    }

    /// The send pipeline that [`ApplicationCall::respond`] runs.
    pub fn send_pipeline(&self) -> &ApplicationSendPipeline {
        &self.send
    }

    /// The send pipeline, for changes.
    pub fn send_pipeline_mut(&mut self) -> &mut ApplicationSendPipeline {
        &mut self.send
    }

    /// The receive pipeline that [`ApplicationCall::receive`] runs.
    pub fn receive_pipeline(&self) -> &ApplicationReceivePipeline {
        &self.receive
    }

    /// The receive pipeline, for changes.
    pub fn receive_pipeline_mut(&mut self) -> &mut ApplicationReceivePipeline {
        &mut self.receive
    }

    /// Registers an async closure in `phase` of the call pipeline.
    ///
    /// # Panics
    /// If the pipeline has no such phase (insert it first); [`try_intercept`](Self::try_intercept) returns the
    /// error instead.
    pub fn intercept<F, Fut>(&mut self, phase: &PipelinePhase, interceptor: F)
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.pipeline.intercept(phase, interceptor);
    }

    /// Registers an async closure in `phase` of the call pipeline.
    ///
    /// # Errors
    /// If the pipeline has no such phase ([`Error::is_unknown_phase`](crate::Error::is_unknown_phase)).
    pub fn try_intercept<F, Fut>(&mut self, phase: &PipelinePhase, interceptor: F) -> Result<()>
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.pipeline.try_intercept(phase, interceptor)
    }

    /// Inserts `phase` before `reference` in the call pipeline.
    ///
    /// # Panics
    /// If `reference` is not a phase of the pipeline.
    pub fn insert_phase_before(&mut self, reference: &PipelinePhase, phase: PipelinePhase) {
        self.pipeline.insert_phase_before(reference, phase);
    }

    /// Inserts `phase` after `reference` (and its earlier after-inserts) in the call pipeline.
    ///
    /// # Panics
    /// If `reference` is not a phase of the pipeline.
    pub fn insert_phase_after(&mut self, reference: &PipelinePhase, phase: PipelinePhase) {
        self.pipeline.insert_phase_after(reference, phase);
    }

    /// Installs `plugin` on this pipeline (the application's or a route's); the same plugin installed again
    /// returns its first instance.
    pub(crate) fn install_plugin<P: Plugin>(
        &mut self,
        environment: &ApplicationEnvironment,
        plugin: P,
        config: P::Config,
    ) -> Result<Arc<P::Instance>> {
        if let Lookup::Same(instance) = self.plugins.lookup(&plugin)? {
            tracing::debug!(plugin = plugin.key(), "plugin already installed; keeping the first installation");
            return Ok(instance);
        }
        let mut builder = PluginBuilder::new(plugin.key(), self, environment);
        let instance = plugin.install(&mut builder, config)?;
        self.plugins.insert(plugin, Arc::clone(&instance));
        Ok(instance)
    }

    /// Merges `other` into this one: the call, send and receive pipelines each by
    /// [`Pipeline::merge`] (routing builds a route's pipeline from its ancestors this way).
    pub fn merge(&mut self, other: &ApplicationCallPipeline) {
        self.pipeline.merge(&other.pipeline);
        self.send.merge(&other.send);
        self.receive.merge(&other.receive);
    }
}
