//! `ServerConfig`: the configuration `embedded_server` builds its environment from.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ApplicationConfig;

/// The configuration of an [`embedded_server`](super::embedded_server), set in code: each method writes the
/// config key that `application.conf` would hold, so both ways of starting a server read the same keys.
///
/// ```
/// use rotor::engine::ServerConfig;
///
/// let config = ServerConfig::new().host("127.0.0.1").port(0).development(true).config("app.greeting", "hi");
/// assert_eq!(config.application_config().string("rotor.deployment.port"), Some("0"));
/// assert_eq!(config.application_config().string("app.greeting"), Some("hi"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    config: ApplicationConfig,
}

impl ServerConfig {
    /// No settings: host `0.0.0.0`, port from `PORT` or 8080, and every other default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from an existing configuration (for example one loaded from a file).
    pub fn from_config(config: ApplicationConfig) -> Self {
        ServerConfig { config }
    }

    /// Sets any config key.
    #[must_use]
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.set(key, value);
        self
    }

    /// The host to bind (`rotor.deployment.host`).
    #[must_use]
    pub fn host(self, host: &str) -> Self {
        self.config("rotor.deployment.host", host)
    }

    /// The port (`rotor.deployment.port`); 0 picks a free one.
    #[must_use]
    pub fn port(self, port: u16) -> Self {
        self.config("rotor.deployment.port", port.to_string())
    }

    /// Development mode (`rotor.development`).
    #[must_use]
    pub fn development(self, development: bool) -> Self {
        self.config("rotor.development", development.to_string())
    }

    /// The shutdown grace period and timeout (`rotor.deployment.shutdownGracePeriod`, `shutdownTimeout`).
    #[must_use]
    pub fn shutdown(self, grace: Duration, timeout: Duration) -> Self {
        self.config("rotor.deployment.shutdownGracePeriod", format!("{}ms", grace.as_millis()))
            .config("rotor.deployment.shutdownTimeout", format!("{}ms", timeout.as_millis()))
    }

    /// An HTTPS connector on `port` with PEM certificate and key files (`rotor.deployment.sslPort`,
    /// `rotor.security.ssl.certificate`, `rotor.security.ssl.privateKey`).
    #[must_use]
    pub fn ssl(self, port: u16, certificate: impl Into<PathBuf>, private_key: impl Into<PathBuf>) -> Self {
        let (certificate, private_key) = (certificate.into(), private_key.into());
        self.config("rotor.deployment.sslPort", port.to_string())
            .config("rotor.security.ssl.certificate", certificate.to_string_lossy())
            .config("rotor.security.ssl.privateKey", private_key.to_string_lossy())
    }

    /// The configuration as built.
    pub fn application_config(&self) -> &ApplicationConfig {
        &self.config
    }

    pub(crate) fn into_application_config(self) -> ApplicationConfig {
        self.config
    }
}
