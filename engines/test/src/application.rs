//! `TestApplication`: an application configured by modules, served in memory.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rotor::Application;
use rotor::config::ApplicationConfig;
use rotor::environment::{ApplicationEnvironment, DEPLOYMENT_ENVIRONMENT_KEY};

use crate::TestClient;

/// An application under test: configured by its modules, with an environment marked as a test, answering
/// requests from its [`client`](Self::client) in memory.
///
/// ```
/// use rotor::prelude::*;
///
/// fn module(app: &mut Application) {
///     app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
///         let greeting = ctx.call().application().environment().config().string("app.greeting").unwrap_or("Hi").to_owned();
///         ctx.call().respond_text(greeting).await
///     });
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::TestApplication::builder().config("app.greeting", "Hello").module(module).build().unwrap();
/// assert!(app.application().environment().is_test());
/// assert_eq!(app.client().get("/").send().await.text().await, "Hello");
/// # }
/// ```
#[derive(Clone)]
pub struct TestApplication {
    application: Arc<Application>,
    timeout: Duration,
}

impl fmt::Debug for TestApplication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApplication").field("application", &self.application).finish()
    }
}

/// A test application configured by `module` with the default test environment.
///
/// # Panics
/// If the module fails to load (it panicked, for example on a plugin conflict), with the module's error.
#[allow(clippy::unused_async)]
pub async fn test_application(module: impl FnOnce(&mut Application) + 'static) -> TestApplication {
    match TestApplication::builder().module(module).build() {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    }
}

impl TestApplication {
    /// A builder for config values, several modules, development mode and the per-call time limit.
    pub fn builder() -> TestApplicationBuilder {
        let mut config = ApplicationConfig::new();
        config.set(DEPLOYMENT_ENVIRONMENT_KEY, "test");
        TestApplicationBuilder { config, modules: Vec::new(), development: None, timeout: Duration::from_secs(30) }
    }

    /// The application.
    pub fn application(&self) -> &Arc<Application> {
        &self.application
    }

    /// A client that sends requests to this application in memory.
    pub fn client(&self) -> TestClient {
        TestClient::new(Arc::clone(&self.application), self.timeout)
    }
}

type Module = Box<dyn FnOnce(&mut Application)>;

/// Builds a [`TestApplication`]; see [`TestApplication::builder`].
pub struct TestApplicationBuilder {
    config: ApplicationConfig,
    modules: Vec<(String, Module)>,
    development: Option<bool>,
    timeout: Duration,
}

impl fmt::Debug for TestApplicationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let modules: Vec<&str> = self.modules.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("TestApplicationBuilder")
            .field("config", &self.config)
            .field("modules", &modules)
            .field("development", &self.development)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TestApplicationBuilder {
    /// Sets a config value (`rotor.development`, `app.greeting`, …).
    #[must_use]
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.set(key, value);
        self
    }

    /// Adds every value of `config`, replacing values under the same keys.
    #[must_use]
    pub fn config_values(mut self, config: &ApplicationConfig) -> Self {
        self.config.merge(config);
        self
    }

    /// Adds a module; modules run in the order they were added.
    #[must_use]
    pub fn module(self, module: impl FnOnce(&mut Application) + 'static) -> Self {
        let name = format!("module #{}", self.modules.len() + 1);
        self.named_module(name, module)
    }

    /// Adds a module with a name, used in the error if it fails to load.
    #[must_use]
    pub fn named_module(mut self, name: impl Into<String>, module: impl FnOnce(&mut Application) + 'static) -> Self {
        self.modules.push((name.into(), Box::new(module)));
        self
    }

    /// Sets development mode (otherwise read from `rotor.development`).
    #[must_use]
    pub fn development(mut self, development: bool) -> Self {
        self.development = Some(development);
        self
    }

    /// Sets how long one call may run before the client gives up with a timeout error (30 s by default), so
    /// that a handler that never finishes fails the test instead of hanging it.
    #[must_use]
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the environment and the application, and runs the modules.
    ///
    /// # Errors
    /// If a module fails to load; the error names it.
    pub fn build(self) -> rotor::Result<TestApplication> {
        let mut environment = ApplicationEnvironment::builder().config(self.config);
        if let Some(development) = self.development {
            environment = environment.development(development);
        }
        let mut application = Application::new(environment.build());
        for (name, module) in self.modules {
            application.apply_module(&name, module)?;
        }
        Ok(TestApplication { application: Arc::new(application), timeout: self.timeout })
    }
}
