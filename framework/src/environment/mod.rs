//! `ApplicationEnvironment`: what an application runs in, fixed once built.

use std::fmt;
use std::sync::Arc;

use crate::config::ApplicationConfig;
use crate::events::Events;

/// The config key that names the deployment environment; `rotor-test` sets it to `test` (Ktor's
/// `ktor.deployment.environment`).
pub const DEPLOYMENT_ENVIRONMENT_KEY: &str = "rotor.deployment.environment";

/// The environment of an application: its configuration, development mode, root path, log target, engine
/// connectors and event bus ([`Events`]). It is immutable once built (the bus accepts subscriptions, as
/// Ktor's does) and cheap to clone: clones share one environment.
///
/// ```
/// use rotor::config::ApplicationConfig;
/// use rotor::environment::{ApplicationEnvironment, EngineConnector};
/// use rotor::events::APPLICATION_STARTED;
///
/// let environment = ApplicationEnvironment::builder()
///     .config(ApplicationConfig::from_pairs([("rotor.deployment.environment", "test")]))
///     .development(true)
///     .connector(EngineConnector::http("127.0.0.1", 8080))
///     .build();
/// assert!(environment.is_test());
/// assert!(environment.development());
/// assert_eq!(environment.root_path(), "");
/// assert_eq!(environment.connectors()[0].to_string(), "http://127.0.0.1:8080");
///
/// environment.events().subscribe(&APPLICATION_STARTED, |env: &ApplicationEnvironment| assert!(env.is_test()));
/// environment.events().raise(&APPLICATION_STARTED, &environment);
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
    connectors: Vec<EngineConnector>,
    events: Events,
}

impl fmt::Debug for ApplicationEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationEnvironment")
            .field("development", &self.inner.development)
            .field("root_path", &self.inner.root_path)
            .field("log_target", &self.inner.log_target)
            .field("connectors", &self.inner.connectors)
            .field("events", &self.inner.events)
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
            connectors: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ApplicationConfig {
        &self.inner.config
    }

    /// True in development mode (more detail in error answers; `rotor.development = true`, or Ktor's
    /// `ktor.development`).
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

    /// The connectors the engine binds, in order (empty until set with
    /// [`ApplicationEnvironmentBuilder::connector`]).
    pub fn connectors(&self) -> &[EngineConnector] {
        &self.inner.connectors
    }

    /// The event bus: the lifecycle events of [`crate::events`] are raised here, and the application may raise
    /// its own.
    pub fn events(&self) -> &Events {
        &self.inner.events
    }

    /// True when `self` and `other` are clones of one environment.
    pub fn ptr_eq(&self, other: &ApplicationEnvironment) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Builds an [`ApplicationEnvironment`]; see [`ApplicationEnvironment::builder`].
#[derive(Debug)]
pub struct ApplicationEnvironmentBuilder {
    config: ApplicationConfig,
    development: Option<bool>,
    root_path: String,
    log_target: String,
    connectors: Vec<EngineConnector>,
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

    /// Adds a connector the engine binds (after those added before).
    #[must_use]
    pub fn connector(mut self, connector: EngineConnector) -> Self {
        self.connectors.push(connector);
        self
    }

    /// Replaces the connectors.
    #[must_use]
    pub fn connectors(mut self, connectors: impl IntoIterator<Item = EngineConnector>) -> Self {
        self.connectors = connectors.into_iter().collect();
        self
    }

    /// The environment. Development mode, unless set with [`development`](Self::development), is read from
    /// `rotor.development` (or `ktor.development`); a value that is not a boolean counts as off here
    /// (`DeploymentConfig` reports it as an error).
    pub fn build(self) -> ApplicationEnvironment {
        let development = self
            .development
            .unwrap_or_else(|| self.config.boolean("rotor.development").ok().flatten().unwrap_or(false));
        ApplicationEnvironment {
            inner: Arc::new(EnvironmentInner {
                config: self.config,
                development,
                root_path: self.root_path,
                log_target: self.log_target,
                connectors: self.connectors,
                events: Events::new(),
            }),
        }
    }
}

/// The protocol of an [`EngineConnector`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectorKind {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl ConnectorKind {
    /// `http` or `https`.
    pub fn scheme(self) -> &'static str {
        match self {
            ConnectorKind::Http => "http",
            ConnectorKind::Https => "https",
        }
    }
}

/// An address an engine listens on: a protocol, a host and a port (port 0 asks for a free port). It displays
/// as a URL: `http://0.0.0.0:8080`.
///
/// ```
/// use rotor::environment::{ConnectorKind, EngineConnector};
///
/// let connector = EngineConnector::https("localhost", 8443);
/// assert_eq!(connector.kind, ConnectorKind::Https);
/// assert_eq!(connector.to_string(), "https://localhost:8443");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EngineConnector {
    /// The protocol.
    pub kind: ConnectorKind,
    /// The host or address to bind (`0.0.0.0` for every IPv4 interface).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl EngineConnector {
    /// A plain HTTP connector.
    pub fn http(host: impl Into<String>, port: u16) -> Self {
        EngineConnector { kind: ConnectorKind::Http, host: host.into(), port }
    }

    /// An HTTPS connector.
    pub fn https(host: impl Into<String>, port: u16) -> Self {
        EngineConnector { kind: ConnectorKind::Https, host: host.into(), port }
    }
}

impl fmt::Display for EngineConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "{}://[{}]:{}", self.kind.scheme(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.kind.scheme(), self.host, self.port)
        }
    }
}
