//! `PluginBuilder` and `create_application_plugin`: the public API every plugin is written against.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::{ApplicationCallPipeline, Hook, Plugin};
use crate::Result;
use crate::call::{ApplicationCall, ApplicationReceivePipeline, ApplicationSendPipeline, ReceiveContext, SendContext};
use crate::environment::ApplicationEnvironment;

/// What a plugin installs itself through: handlers for the call ([`on_call`](Self::on_call)), for receiving
/// ([`on_call_receive`](Self::on_call_receive)) and for responding ([`on_call_respond`](Self::on_call_respond)),
/// [hooks](Self::on), and the pipeline itself for anything else (Ktor's `PluginBuilder`).
///
/// ```
/// use rotor::application::{create_application_plugin, ApplicationPlugin};
///
/// /// Counts the calls that reach the Plugins phase.
/// pub const CALL_COUNTER: ApplicationPlugin<()> = create_application_plugin("CallCounter", |plugin, _config| {
///     let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
///     plugin.on_call(move |_call| {
///         count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         async { Ok(()) }
///     });
///     Ok(())
/// });
///
/// let mut app = rotor::Application::default();
/// app.install(CALL_COUNTER, ());
/// ```
pub struct PluginBuilder<'a> {
    name: &'static str,
    pipeline: &'a mut ApplicationCallPipeline,
    environment: &'a ApplicationEnvironment,
}

impl fmt::Debug for PluginBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginBuilder").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<'a> PluginBuilder<'a> {
    pub(crate) fn new(
        name: &'static str,
        pipeline: &'a mut ApplicationCallPipeline,
        environment: &'a ApplicationEnvironment,
    ) -> Self {
        PluginBuilder { name, pipeline, environment }
    }

    /// The plugin's key.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The environment the plugin is installed in (configuration, development mode).
    pub fn environment(&self) -> &ApplicationEnvironment {
        self.environment
    }

    /// The pipeline the plugin is installed on, for phases and interceptors the handlers do not cover.
    pub fn pipeline_mut(&mut self) -> &mut ApplicationCallPipeline {
        self.pipeline
    }

    /// Runs `handler` for every call, in the Plugins phase; the call goes on when it returns.
    pub fn on_call<F, Fut>(&mut self, handler: F)
    where
        F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.pipeline.intercept(&ApplicationCallPipeline::PLUGINS, move |ctx| handler(ctx.call().clone()));
    }

    /// Runs `handler` whenever the call receives its body, in the receive pipeline's Transform phase; it may
    /// convert the value (`ctx.subject().set_value(…)`), for example to the asked type.
    pub fn on_call_receive<F, Fut>(&mut self, handler: F)
    where
        F: Fn(ReceiveContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.pipeline.receive_pipeline_mut().intercept(&ApplicationReceivePipeline::TRANSFORM, handler);
    }

    /// Runs `handler` whenever the call responds, in the send pipeline's Transform phase; it may replace the
    /// value (`*ctx.subject() = ResponseValue::new(…)`), for example to render it.
    pub fn on_call_respond<F, Fut>(&mut self, handler: F)
    where
        F: Fn(SendContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.pipeline.send_pipeline_mut().intercept(&ApplicationSendPipeline::TRANSFORM, handler);
    }

    /// Attaches `handler` to `hook` ([`CallSetup`](super::CallSetup), [`CallFailed`](super::CallFailed),
    /// [`ResponseSent`](super::ResponseSent), or a hook of your own).
    ///
    /// # Panics
    /// If the hook cannot be installed on this pipeline (a custom hook that needs a missing phase).
    pub fn on<H, F>(&mut self, hook: H, handler: F)
    where
        H: Hook<F>,
    {
        if let Err(error) = hook.install(self.pipeline, handler) {
            panic!("plugin `{}`: {error}", self.name);
        }
    }
}

/// A plugin made by [`create_application_plugin`]: a name and a function that installs it.
pub struct ApplicationPlugin<C> {
    name: &'static str,
    build: fn(&mut PluginBuilder<'_>, Arc<C>) -> Result<()>,
}

impl<C> Clone for ApplicationPlugin<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for ApplicationPlugin<C> {}

impl<C> fmt::Debug for ApplicationPlugin<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationPlugin").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Makes a plugin from a name and a function that installs it through a [`PluginBuilder`], given the
/// configuration (Ktor's `createApplicationPlugin`). Its instance is the configuration, shared.
///
/// ```
/// use std::sync::Arc;
/// use rotor::application::{create_application_plugin, Application, ApplicationPlugin};
///
/// #[derive(Default)]
/// pub struct GreetingConfig { pub header: String }
///
/// pub const GREETING: ApplicationPlugin<GreetingConfig> = create_application_plugin("Greeting", |plugin, config| {
///     plugin.on_call(move |call| {
///         let config = Arc::clone(&config);
///         async move { call.response().set_header("x-greeting", config.header.as_str()) }
///     });
///     Ok(())
/// });
///
/// let mut app = Application::default();
/// app.install_with(GREETING, |config| config.header = "hello".into());
/// assert_eq!(app.plugin(&GREETING).unwrap().header, "hello");
/// ```
pub const fn create_application_plugin<C>(
    name: &'static str,
    build: fn(&mut PluginBuilder<'_>, Arc<C>) -> Result<()>,
) -> ApplicationPlugin<C> {
    ApplicationPlugin { name, build }
}

impl<C: Send + Sync + 'static> Plugin for ApplicationPlugin<C> {
    type Config = C;
    type Instance = C;

    fn key(&self) -> &'static str {
        self.name
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: C) -> Result<Arc<C>> {
        let config = Arc::new(config);
        (self.build)(plugin, Arc::clone(&config))?;
        Ok(config)
    }

    fn is_same(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.build, other.build)
    }
}
