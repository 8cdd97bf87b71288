//! `EmbeddedServer`: an engine, an environment and modules, started and stopped in Ktor's order.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::{ApplicationEngine, ApplicationEngineFactory, EngineSettings, ResolvedConnector, ServerConfig};
use crate::config::{ApplicationConfig, DeploymentConfig};
use crate::environment::ApplicationEnvironment;
use crate::events::{
    APPLICATION_MODULES_LOADED, APPLICATION_STARTED, APPLICATION_STARTING, APPLICATION_STOP_PREPARING,
    APPLICATION_STOPPED, APPLICATION_STOPPING, SERVER_READY,
};
use crate::{Application, Error, Result};

type Module = Box<dyn FnOnce(&mut Application) + Send>;

/// A server: an engine serving an application built from modules in an immutable environment (Ktor's
/// `EmbeddedServer`).
///
/// [`start`](Self::start) raises ApplicationStarting, runs the modules, raises ApplicationModulesLoaded and
/// ApplicationStarted, binds the connectors, logs one line per connector with a URL to open, and raises
/// ServerReady. [`stop`](Self::stop) raises ApplicationStopPreparing, stops the engine (no new connections;
/// in-flight calls finish within the grace period; the rest are cut off at the timeout), then raises
/// ApplicationStopping and ApplicationStopped. With `start(true)` the server runs until SIGTERM, SIGINT
/// (Ctrl-C) or a [`StopHandle`] asks it to stop, then stops gracefully.
///
/// ```no_run
/// use rotor::prelude::*;
/// use rotor::engine::embedded_server;
/// # #[derive(Clone, Copy)] struct Hyper;
/// # impl rotor::engine::ApplicationEngineFactory for Hyper {
/// #     type Engine = NoEngine;
/// #     fn create(&self) -> NoEngine { NoEngine }
/// # }
/// # struct NoEngine;
/// # impl rotor::engine::ApplicationEngine for NoEngine {
/// #     async fn start(&mut self, _: std::sync::Arc<Application>, _: &rotor::engine::EngineSettings)
/// #         -> rotor::Result<Vec<rotor::engine::ResolvedConnector>> { Ok(Vec::new()) }
/// #     async fn stop(&mut self, _: std::time::Duration, _: std::time::Duration) {}
/// # }
///
/// fn module(app: &mut Application) {
///     app.routing(|r| {
///         r.get("/", |call: ApplicationCall| async move { call.respond_text("Hello").await });
///     });
/// }
///
/// #[tokio::main]
/// async fn main() -> rotor::Result<()> {
///     // With the hyper engine: `embedded_server(rotor_hyper::Hyper, …)`.
///     embedded_server(Hyper, |config| config.port(8080), module).start(true).await
/// }
/// ```
pub struct EmbeddedServer<E> {
    engine: E,
    environment: ApplicationEnvironment,
    deployment: Result<DeploymentConfig>,
    modules: Vec<(String, Module)>,
    application: Option<Arc<Application>>,
    connectors: Vec<ResolvedConnector>,
    stop_requests: watch::Sender<bool>,
}

impl<E> fmt::Debug for EmbeddedServer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("environment", &self.environment)
            .field("connectors", &self.connectors)
            .field("running", &self.application.is_some())
            .finish_non_exhaustive()
    }
}

/// A server for `module` on engines of `factory`, configured in code by `configure` (and by the `PORT`
/// environment variable when no port is set).
pub fn embedded_server<F, M>(
    factory: F,
    configure: impl FnOnce(ServerConfig) -> ServerConfig,
    module: M,
) -> EmbeddedServer<F::Engine>
where
    F: ApplicationEngineFactory,
    M: FnOnce(&mut Application) + Send + 'static,
{
    let config = configure(ServerConfig::new()).into_application_config();
    let env = |name: &str| std::env::var(name).ok();
    let mut server = EmbeddedServer::new(factory.create(), config, &env);
    server.add_module("module", module);
    server
}

impl<E: ApplicationEngine> EmbeddedServer<E> {
    /// A server on `engine` with `config`; `env` reads environment variables (`PORT`). Add modules with
    /// [`add_module`](Self::add_module). A configuration error is reported by [`start`](Self::start).
    pub fn new(engine: E, config: ApplicationConfig, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let deployment = DeploymentConfig::from_config(&config, env);
        let mut builder = ApplicationEnvironment::builder().log_target("rotor::application");
        if let Ok(deployment) = &deployment {
            builder = builder
                .development(deployment.development)
                .root_path(deployment.root_path.clone())
                .connectors(deployment.connectors());
        }
        let environment = builder.config(config).build();
        let (stop_requests, _) = watch::channel(false);
        EmbeddedServer {
            engine,
            environment,
            deployment,
            modules: Vec::new(),
            application: None,
            connectors: Vec::new(),
            stop_requests,
        }
    }

    /// Adds a module, run at start in the order added; `name` names it in errors.
    pub fn add_module(&mut self, name: impl Into<String>, module: impl FnOnce(&mut Application) + Send + 'static) {
        self.modules.push((name.into(), Box::new(module)));
    }

    /// The environment: subscribe to its events before starting.
    pub fn environment(&self) -> &ApplicationEnvironment {
        &self.environment
    }

    /// The application, once started.
    pub fn application(&self) -> Option<&Arc<Application>> {
        self.application.as_ref()
    }

    /// The connectors as bound (a port of 0 resolved), once started.
    pub fn resolved_connectors(&self) -> &[ResolvedConnector] {
        &self.connectors
    }

    /// A handle that asks a server waiting in `start(true)` to stop gracefully.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle { requests: self.stop_requests.clone() }
    }

    /// Starts the server; with `wait`, runs until SIGTERM, SIGINT or a [`StopHandle`], then stops gracefully
    /// and returns.
    ///
    /// # Errors
    /// A configuration error, a module that fails to load, or a connector that cannot be bound (the message
    /// says which and what to do). Nothing is left listening after an error.
    pub async fn start(&mut self, wait: bool) -> Result<()> {
        if self.application.is_some() {
            return Err(Error::internal("the server is already started"));
        }
        let began = Instant::now();
        let deployment = match &self.deployment {
            Ok(deployment) => deployment.clone(),
            Err(error) => return Err(error.clone()),
        };
        let events = self.environment.events();
        events.raise(&APPLICATION_STARTING, &self.environment);
        let mut application = Application::new(self.environment.clone());
        for (name, module) in self.modules.drain(..) {
            application.apply_module(&name, module)?;
        }
        events.raise(&APPLICATION_MODULES_LOADED, &self.environment);
        let application = Arc::new(application);
        events.raise(&APPLICATION_STARTED, &self.environment);

        // Listen for SIGTERM/SIGINT before the server says it is ready, so that no signal is lost.
        let termination = wait.then(super::signals::Termination::listen);
        let settings = EngineSettings::from_deployment(&deployment);
        self.connectors = self.engine.start(Arc::clone(&application), &settings).await?;
        self.application = Some(application);
        for connector in &self.connectors {
            match connector.loopback_url() {
                Some(loopback) => {
                    tracing::info!(target: "rotor::server", "Responding at {connector} (open {loopback})");
                }
                None => tracing::info!(target: "rotor::server", "Responding at {connector}"),
            }
        }
        events.raise(&SERVER_READY, &self.environment);
        tracing::info!(target: "rotor::server", "Server ready in {:.1} ms", began.elapsed().as_secs_f64() * 1000.0);

        if let Some(termination) = termination {
            wait_for_stop_request(self.stop_requests.subscribe(), termination).await;
            self.stop().await;
        }
        Ok(())
    }

    /// Stops the server with the configured grace period and timeout (`shutdownGracePeriod`,
    /// `shutdownTimeout`). Stopping a server that is not running does nothing.
    pub async fn stop(&mut self) {
        let (grace, timeout) = match &self.deployment {
            Ok(deployment) => (deployment.shutdown_grace_period, deployment.shutdown_timeout),
            Err(_) => (Duration::from_secs(1), Duration::from_secs(5)),
        };
        self.stop_with(grace, timeout).await;
    }

    /// Stops the server: ApplicationStopPreparing, then the engine stops (no new connections, in-flight calls
    /// finish within `grace`, the rest are cut off at `timeout`), then ApplicationStopping and
    /// ApplicationStopped.
    pub async fn stop_with(&mut self, grace: Duration, timeout: Duration) {
        let Some(application) = self.application.take() else { return };
        let events = self.environment.events();
        events.raise(&APPLICATION_STOP_PREPARING, &self.environment);
        self.engine.stop(grace, timeout).await;
        events.raise(&APPLICATION_STOPPING, &self.environment);
        drop(application);
        events.raise(&APPLICATION_STOPPED, &self.environment);
        tracing::info!(target: "rotor::server", "Server stopped");
    }
}

/// Waits for SIGTERM, SIGINT or a [`StopHandle`].
async fn wait_for_stop_request(mut requests: watch::Receiver<bool>, mut termination: super::signals::Termination) {
    let requested = async move {
        // Ends when a stop is requested; never, if every handle is gone without asking.
        if requests.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = requested => tracing::info!(target: "rotor::server", "Stop requested"),
        signal = termination.received() => tracing::info!(target: "rotor::server", "Received {signal}; stopping"),
    }
}

/// Asks a server waiting in `start(true)` to stop gracefully; cheap to clone and send to other tasks.
#[derive(Clone, Debug)]
pub struct StopHandle {
    requests: watch::Sender<bool>,
}

impl StopHandle {
    /// Asks the server to stop. It stops gracefully and `start(true)` returns.
    pub fn stop(&self) {
        self.requests.send_replace(true);
    }
}
