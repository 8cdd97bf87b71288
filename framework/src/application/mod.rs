//! `Application`: the call pipeline, its plugins and its environment.

mod call_pipeline;
mod failure;
mod hooks;
mod module;
mod plugin;
mod plugin_builder;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

pub use call_pipeline::{ApplicationCallPipeline, CallContext};
pub use failure::CallExecution;
pub use hooks::{CALL_FAILED_PHASE, CallFailed, CallSetup, Hook, ResponseSent};
pub use module::ApplicationModule;
pub use plugin::Plugin;
pub use plugin_builder::{ApplicationPlugin, PluginBuilder, create_application_plugin};

use crate::call::Attributes;
use crate::environment::ApplicationEnvironment;
use crate::{Error, Result};

/// An application: the [`ApplicationCallPipeline`] every call runs through, the plugins installed on it,
/// application-wide attributes, and the environment it runs in.
///
/// Modules configure it: plain functions `fn(&mut Application)` that install plugins and register
/// interceptors (and, with routing, routes). Once configured, an engine (or `rotor-test`) shares it behind an
/// `Arc` and runs each call through [`execute`](Self::execute). It dereferences to its
/// `ApplicationCallPipeline`, as Ktor's `Application` is one.
///
/// ```
/// use rotor::application::{Application, ApplicationCallPipeline};
///
/// fn module(app: &mut Application) {
///     app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
///         if ctx.call().request().path() == "/" {
///             ctx.call().respond_text("Hello, world!").await?;
///         }
///         Ok(())
///     });
/// }
///
/// let mut app = Application::default();
/// module(&mut app);
/// ```
pub struct Application {
    environment: ApplicationEnvironment,
    pipeline: ApplicationCallPipeline,
    attributes: Attributes,
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("environment", &self.environment)
            .field("pipeline", &self.pipeline)
            .field("attributes", &self.attributes)
            .finish()
    }
}

impl Default for Application {
    fn default() -> Self {
        Self::new(ApplicationEnvironment::default())
    }
}

impl Deref for Application {
    type Target = ApplicationCallPipeline;
    fn deref(&self) -> &ApplicationCallPipeline {
        &self.pipeline
    }
}

impl DerefMut for Application {
    fn deref_mut(&mut self) -> &mut ApplicationCallPipeline {
        &mut self.pipeline
    }
}

impl Application {
    /// An application in `environment`, with no modules applied yet.
    pub fn new(environment: ApplicationEnvironment) -> Self {
        let mut pipeline = ApplicationCallPipeline::new();
        let send = pipeline.send_pipeline_mut().install_builtin_steps();
        let receive = pipeline.receive_pipeline_mut().install_builtin_steps();
        debug_assert!(send.is_ok() && receive.is_ok(), "the standard pipelines have the phases");
        Application { environment, pipeline, attributes: Attributes::new() }
    }

    /// The environment.
    pub fn environment(&self) -> &ApplicationEnvironment {
        &self.environment
    }

    /// Application-wide attributes.
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    /// Application-wide attributes, for changes.
    pub fn attributes_mut(&mut self) -> &mut Attributes {
        &mut self.attributes
    }

    /// Installs `plugin` with `config` and returns its instance. Installing the same plugin again returns the
    /// instance installed first (the new config is ignored).
    ///
    /// # Errors
    /// If a different plugin is installed under the same key ([`Error::is_plugin`]), or the plugin refuses its
    /// configuration.
    pub fn try_install<P: Plugin>(&mut self, plugin: P, config: P::Config) -> Result<Arc<P::Instance>> {
        self.pipeline.install_plugin(&self.environment, plugin, config)
    }

    /// Installs `plugin` with `config` and returns its instance; see [`try_install`](Self::try_install).
    ///
    /// # Panics
    /// If installing fails (a different plugin under the same key, or a refused configuration), with the
    /// message. Modules run by `rotor-test` and the engines turn this panic into a startup error.
    pub fn install<P: Plugin>(&mut self, plugin: P, config: P::Config) -> Arc<P::Instance> {
        match self.try_install(plugin, config) {
            Ok(instance) => instance,
            Err(error) => panic!("{error}"),
        }
    }

    /// Installs `plugin` with its default configuration changed by `configure` (Ktor's `install(X) { … }`).
    ///
    /// # Panics
    /// As [`install`](Self::install).
    pub fn install_with<P>(&mut self, plugin: P, configure: impl FnOnce(&mut P::Config)) -> Arc<P::Instance>
    where
        P: Plugin,
        P::Config: Default,
    {
        let mut config = P::Config::default();
        configure(&mut config);
        self.install(plugin, config)
    }

    /// The instance of `plugin`, if it is installed.
    pub fn plugin<P: Plugin>(&self, plugin: &P) -> Option<Arc<P::Instance>> {
        self.pipeline.plugins.get(plugin)
    }

    /// The instance of `plugin`.
    ///
    /// # Errors
    /// If it is not installed ([`Error::is_plugin`]); the message says how to install it.
    pub fn require_plugin<P: Plugin>(&self, plugin: &P) -> Result<Arc<P::Instance>> {
        self.plugin(plugin).ok_or_else(|| {
            let installed: Vec<&str> = self.pipeline.plugins.keys().collect();
            Error::plugin(format!(
                "plugin `{}` is not installed (installed: [{}]); install it in a module with `app.install(…)`",
                plugin.key(),
                installed.join(", ")
            ))
        })
    }
}
