//! `EngineMain`: a `main` that reads `application.conf` and the command line, runs the configured modules on
//! an engine, and stops gracefully on SIGTERM.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use super::{ApplicationEngineFactory, EmbeddedServer, RuntimeMode};
use crate::application::ApplicationModule;
use crate::config::{ApplicationConfig, CommandLine, DeploymentConfig};
use crate::{Error, Result};

/// The entry point of a server configured by files (Ktor's `EngineMain`): modules are registered by name in
/// `main` (Rust has no reflection) and chosen by `rotor.application.modules`; the configuration comes from
/// `application.conf` in the working directory (or `-config=` files), `-P:key=value`, `-host=` and `-port=`;
/// with no port configured anywhere, `PORT` from the environment is used, then 8080.
///
/// ```no_run
/// use rotor::prelude::*;
/// use rotor::engine::EngineMain;
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
/// fn main() -> std::process::ExitCode {
///     // application.conf: rotor.application.modules = [ hello ]
///     EngineMain::new(Hyper).module("hello", module).main()
/// }
/// ```
pub struct EngineMain<F> {
    factory: F,
    modules: Vec<(String, ApplicationModule)>,
}

impl<F> fmt::Debug for EngineMain<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.modules.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("EngineMain").field("modules", &names).finish_non_exhaustive()
    }
}

impl<F: ApplicationEngineFactory> EngineMain<F> {
    /// An entry point for engines of `factory`, with no modules registered yet.
    pub fn new(factory: F) -> Self {
        EngineMain { factory, modules: Vec::new() }
    }

    /// Registers `module` under `name`, the name `rotor.application.modules` refers to it by.
    #[must_use]
    pub fn module(mut self, name: impl Into<String>, module: ApplicationModule) -> Self {
        self.modules.push((name.into(), module));
        self
    }

    /// The server the configuration describes, with its modules chosen by `rotor.application.modules`.
    ///
    /// # Errors
    /// A configuration error; no module configured; a configured module that is not registered (the message
    /// lists the registered ones).
    pub fn server(
        self,
        config: ApplicationConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<EmbeddedServer<F::Engine>> {
        let deployment = DeploymentConfig::from_config(&config, env)?;
        let registered: Vec<&str> = self.modules.iter().map(|(name, _)| name.as_str()).collect();
        if deployment.modules.is_empty() {
            return Err(Error::config(format!(
                "no module to run: list the modules in rotor.application.modules (registered: {})",
                names(&registered)
            )));
        }
        let mut chosen = Vec::with_capacity(deployment.modules.len());
        for name in &deployment.modules {
            let Some((_, module)) = self.modules.iter().find(|(registered, _)| registered == name) else {
                return Err(Error::config(format!(
                    "unknown module `{name}` in rotor.application.modules; registered modules: {}",
                    names(&registered)
                )));
            };
            chosen.push((name.clone(), *module));
        }
        let mut server = EmbeddedServer::new(self.factory.create(), config, env);
        for (name, module) in chosen {
            server.add_module(name, module);
        }
        Ok(server)
    }

    /// Reads the command line `args` (without the program name) and the configuration from `cwd`, starts the
    /// server, and waits until it is asked to stop (SIGTERM, SIGINT), then stops it gracefully.
    ///
    /// # Errors
    /// A bad command line, a malformed or invalid configuration, a module that fails to load, or a port that
    /// cannot be bound.
    pub async fn run_with(
        self,
        args: impl IntoIterator<Item = String>,
        cwd: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<()> {
        let command_line = CommandLine::parse(args)?;
        let config = command_line.load_with(cwd, env)?;
        self.server(config, env)?.start(true).await
    }

    /// [`run_with`](Self::run_with) the process's arguments, working directory and environment.
    ///
    /// # Errors
    /// As [`run_with`](Self::run_with).
    pub async fn run(self) -> Result<()> {
        let cwd = std::env::current_dir()
            .map_err(|error| Error::config(format!("cannot read the working directory: {error}")))?;
        self.run_with(std::env::args().skip(1), &cwd, &|name| std::env::var(name).ok()).await
    }

    /// A complete `main`: logs to stdout (filtered by `RUST_LOG`, `info` by default), builds a runtime
    /// (`rotor.deployment.workers` threads, or one per core; with `rotor.deployment.runtime = thread-per-core`, a
    /// single-threaded runtime for the server's lifecycle, as the engine runs its own worker threads), runs the
    /// server, and on an error prints one line to stderr and returns exit code 1. A graceful stop returns 0.
    pub fn main(self) -> ExitCode {
        super::logging::init();
        let (workers, mode) = runtime_from_config();
        let mut runtime = match mode {
            RuntimeMode::ThreadPerCore => tokio::runtime::Builder::new_current_thread(),
            _ => {
                let mut runtime = tokio::runtime::Builder::new_multi_thread();
                if let Some(workers) = workers {
                    runtime.worker_threads(workers);
                }
                runtime
            }
        };
        let result = match runtime.enable_all().build() {
            Ok(runtime) => runtime.block_on(self.run()),
            Err(error) => Err(Error::internal(format!("cannot start the async runtime: {error}"))),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("rotor: {error}");
                ExitCode::FAILURE
            }
        }
    }
}

/// `rotor.deployment.workers` and `runtime`, read before the runtime exists; errors are reported later by `run`.
fn runtime_from_config() -> (Option<usize>, RuntimeMode) {
    let deployment = CommandLine::from_env()
        .ok()
        .and_then(|command_line| command_line.load().ok())
        .and_then(|config| DeploymentConfig::from_config(&config, &|name| std::env::var(name).ok()).ok());
    deployment.map_or((None, RuntimeMode::default()), |deployment| (deployment.workers, deployment.runtime))
}

fn names(names: &[&str]) -> String {
    if names.is_empty() { String::from("none; register one with EngineMain::module") } else { names.join(", ") }
}
