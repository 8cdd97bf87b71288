//! `ApplicationEnvironment`: what an application runs in, fixed once built.

use std::fmt;
use std::sync::Arc;

use crate::config::ApplicationConfig;

/// The config key that names the deployment environment; `rotor-test` sets it to `test` (Ktor's
/// `ktor.deployment.environment`).
pub const DEPLOYMENT_ENVIRONMENT_KEY: &str = "rotor.deployment.environment";

/// The environment of an application: its configuration, development mode, root path and log target. It is
/// immutable once built and cheap to clone.
///
/// ```
/// use rotor::config::ApplicationConfig;
/// use rotor::environment::ApplicationEnvironment;
///
/// let environment = ApplicationEnvironment::builder()
///     .config(ApplicationConfig::from_pairs([("rotor.deployment.environment", "test")]))
///     .development(true)
///     .build();
/// assert!(environment.is_test());
/// assert!(environment.development());
/// assert_eq!(environment.root_path(), "");
/// ```
#[derive(Clone)]
pub struct ApplicationEnvironment {
    inner: Arc<EnvironmentInner>,
}

struct EnvironmentInner {
    config: ApplicationConfig,
    development: bool,
    root_path: String,
    log_target: String,
}

impl fmt::Debug for ApplicationEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationEnvironment")
            .field("development", &self.inner.development)
            .field("root_path", &self.inner.root_path)
            .field("log_target", &self.inner.log_target)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Default for ApplicationEnvironment {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl ApplicationEnvironment {
    /// A builder with an empty configuration, development mode off, an empty root path and the log target
    /// `rotor::application`.
    pub fn builder() -> ApplicationEnvironmentBuilder {
        ApplicationEnvironmentBuilder {
            config: ApplicationConfig::new(),
            development: None,
            root_path: String::new(),
            log_target: String::from("rotor::application"),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ApplicationConfig {
        &self.inner.config
    }

    /// True in development mode (more detail in error answers; `rotor.development = true`).
    pub fn development(&self) -> bool {
        self.inner.development
    }

    /// True when the configuration marks the environment as a test (`rotor.deployment.environment = test`).
    pub fn is_test(&self) -> bool {
        self.inner.config.string(DEPLOYMENT_ENVIRONMENT_KEY) == Some("test")
    }

    /// The path the application is mounted under (`rotor.deployment.rootPath`), empty for `/`.
    pub fn root_path(&self) -> &str {
        &self.inner.root_path
    }

    /// The `tracing` target the application logs under.
    pub fn log_target(&self) -> &str {
        &self.inner.log_target
    }
}

/// Builds an [`ApplicationEnvironment`]; see [`ApplicationEnvironment::builder`].
#[derive(Debug)]
pub struct ApplicationEnvironmentBuilder {
    config: ApplicationConfig,
    development: Option<bool>,
    root_path: String,
    log_target: String,
}

impl ApplicationEnvironmentBuilder {
    /// Sets the configuration.
    #[must_use]
    pub fn config(mut self, config: ApplicationConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets development mode (otherwise read from `rotor.development`).
    #[must_use]
    pub fn development(mut self, development: bool) -> Self {
        self.development = Some(development);
        self
    }

    /// Sets the root path.
    #[must_use]
    pub fn root_path(mut self, root_path: impl Into<String>) -> Self {
        self.root_path = root_path.into();
        self
    }

    /// Sets the `tracing` target.
    #[must_use]
    pub fn log_target(mut self, log_target: impl Into<String>) -> Self {
        self.log_target = log_target.into();
        self
    }

    /// The environment.
    pub fn build(self) -> ApplicationEnvironment {
        let development = self.development.unwrap_or_else(|| self.config.string("rotor.development") == Some("true"));
        ApplicationEnvironment {
            inner: Arc::new(EnvironmentInner {
                config: self.config,
                development,
                root_path: self.root_path,
                log_target: self.log_target,
            }),
        }
    }
}
