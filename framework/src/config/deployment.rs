//! `DeploymentConfig`: the typed deployment settings (`rotor.deployment.*`) with their defaults.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::{ApplicationConfig, ConfigValue};
use crate::engine::RuntimeMode;
use crate::environment::EngineConnector;
use crate::{Error, Result};

const HOST: &str = "rotor.deployment.host";
const PORT: &str = "rotor.deployment.port";
const SSL_PORT: &str = "rotor.deployment.sslPort";
const SSL_CERTIFICATE: &str = "rotor.security.ssl.certificate";
const SSL_PRIVATE_KEY: &str = "rotor.security.ssl.privateKey";
const SSL_KEY_STORE: &str = "rotor.security.ssl.keyStore";
const ROOT_PATH: &str = "rotor.deployment.rootPath";
const SHUTDOWN_GRACE_PERIOD: &str = "rotor.deployment.shutdownGracePeriod";
const SHUTDOWN_TIMEOUT: &str = "rotor.deployment.shutdownTimeout";
const MODULES: &str = "rotor.application.modules";
const DEVELOPMENT: &str = "rotor.development";
const WORKERS: &str = "rotor.deployment.workers";
const RUNTIME: &str = "rotor.deployment.runtime";
const MAX_INITIAL_LINE_LENGTH: &str = "rotor.deployment.maxInitialLineLength";
const MAX_HEADER_SIZE: &str = "rotor.deployment.maxHeaderSize";
const MAX_HEADERS: &str = "rotor.deployment.maxHeaders";
const MAX_BODY_SIZE: &str = "rotor.deployment.maxBodySize";
const REQUEST_READ_TIMEOUT: &str = "rotor.deployment.requestReadTimeoutSeconds";
const CONNECTION_IDLE_TIMEOUT: &str = "rotor.deployment.connectionIdleTimeoutSeconds";
const MAX_REQUESTS_PER_CONNECTION: &str = "rotor.deployment.maxRequestsPerConnection";

/// The environment variable read for the port when no port is configured.
pub const PORT_ENV: &str = "PORT";

/// The deployment settings of an application, read from its [`ApplicationConfig`] with
/// [`from_config`](Self::from_config). As everywhere in the configuration, each `rotor.` key falls back to
/// Ktor's `ktor.` key of the same name.
///
/// | field | key | default |
/// | --- | --- | --- |
/// | `host` | `rotor.deployment.host` | `0.0.0.0` |
/// | `port` | `rotor.deployment.port` | the `PORT` environment variable, else `8080` (port 0: a free port) |
/// | `ssl_port` | `rotor.deployment.sslPort` | none (no HTTPS connector) |
/// | `ssl_certificate` | `rotor.security.ssl.certificate` | none; a PEM certificate chain, required with `sslPort` |
/// | `ssl_private_key` | `rotor.security.ssl.privateKey` | none; a PEM private key, required with `sslPort` |
/// | `root_path` | `rotor.deployment.rootPath` | empty (mounted at `/`); `/api/` is read as `/api` |
/// | `shutdown_grace_period` | `rotor.deployment.shutdownGracePeriod` | 1000 ms (Ktor's default) |
/// | `shutdown_timeout` | `rotor.deployment.shutdownTimeout` | 5000 ms (Ktor's default); not below the grace period |
/// | `modules` | `rotor.application.modules` | none; a list of module names (a single name is accepted) |
/// | `development` | `rotor.development` | `false` |
/// | `workers` | `rotor.deployment.workers` | none: one thread per core |
/// | `runtime` | `rotor.deployment.runtime` | `multi-thread`; or `thread-per-core` (see [`RuntimeMode`]) |
/// | `max_initial_line_length` | `rotor.deployment.maxInitialLineLength` | 4096 bytes (Ktor's); a size |
/// | `max_header_size` | `rotor.deployment.maxHeaderSize` | 8192 bytes (Ktor's), all header lines together; a size |
/// | `max_headers` | `rotor.deployment.maxHeaders` | 100 |
/// | `max_body_size` | `rotor.deployment.maxBodySize` | 10 MiB; a size such as `512k`, `10MB`, `1GiB` |
/// | `request_read_timeout` | `rotor.deployment.requestReadTimeoutSeconds` | 30 s; 0 disables it |
/// | `connection_idle_timeout` | `rotor.deployment.connectionIdleTimeoutSeconds` | 45 s (Ktor's CIO engine); 0 disables it |
/// | `max_requests_per_connection` | `rotor.deployment.maxRequestsPerConnection` | none (unlimited) |
///
/// Sizes take HOCON's syntax (`8192`, `16k`, `10MB`, `1MiB`; a bare number is bytes). Durations take HOCON's syntax (`5s`, `500ms`; a bare number is milliseconds), except the keys ending in
/// `Seconds`, where a bare number is seconds. The body limit is 10 MiB rather than Ktor's unlimited so that a
/// server is safe from an endless upload by default; raise it for upload endpoints. The idle timeout is Ktor
/// CIO's 45 seconds: longer than common client keep-alive pools reuse a connection, short enough to free
/// sockets.
///
/// [`Default`] gives these defaults with port 8080.
///
/// ```
/// use std::time::Duration;
/// use rotor::config::{ApplicationConfig, DeploymentConfig};
///
/// let config = ApplicationConfig::from_hocon_str(
///     "ktor.deployment { port = 9000, shutdownGracePeriod = 2s }\nrotor.application.modules = [shop.main]",
///     "application.conf",
/// )
/// .unwrap();
/// let deployment = DeploymentConfig::from_config(&config, &|name| std::env::var(name).ok()).unwrap();
/// assert_eq!(deployment.port, 9000);
/// assert_eq!(deployment.host, "0.0.0.0");
/// assert_eq!(deployment.shutdown_grace_period, Duration::from_secs(2));
/// assert_eq!(deployment.modules, ["shop.main"]);
///
/// // With no port configured, PORT from the environment, then 8080.
/// let empty = ApplicationConfig::new();
/// let deployment = DeploymentConfig::from_config(&empty, &|name| (name == "PORT").then(|| "7070".into())).unwrap();
/// assert_eq!(deployment.port, 7070);
/// assert_eq!(DeploymentConfig::from_config(&empty, &|_| None).unwrap().port, 8080);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeploymentConfig {
    /// The host or address to bind.
    pub host: String,
    /// The HTTP port.
    pub port: u16,
    /// The HTTPS port, if any.
    pub ssl_port: Option<u16>,
    /// The PEM certificate chain for HTTPS.
    pub ssl_certificate: Option<PathBuf>,
    /// The PEM private key for HTTPS.
    pub ssl_private_key: Option<PathBuf>,
    /// The path the application is mounted under, empty for `/`; never ends with `/`.
    pub root_path: String,
    /// How long in-flight calls may go on after a stop begins before new work is refused outright.
    pub shutdown_grace_period: Duration,
    /// How long a stop may take in all before the remaining calls are aborted.
    pub shutdown_timeout: Duration,
    /// The names of the modules to run, in order.
    pub modules: Vec<String>,
    /// Development mode.
    pub development: bool,
    /// The number of worker threads, if configured.
    pub workers: Option<usize>,
    /// How connections are spread over the worker threads.
    pub runtime: RuntimeMode,
    /// The longest request line accepted, in bytes.
    pub max_initial_line_length: usize,
    /// The largest header section accepted, in bytes.
    pub max_header_size: usize,
    /// The most header fields accepted in one request.
    pub max_headers: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_size: u64,
    /// How long reading one request may take; `None` for no limit.
    pub request_read_timeout: Option<Duration>,
    /// How long a keep-alive connection may stay idle; `None` for no limit.
    pub connection_idle_timeout: Option<Duration>,
    /// The most requests served on one connection; `None` for no limit.
    pub max_requests_per_connection: Option<usize>,
}

impl DeploymentConfig {
    /// The default host: every IPv4 interface.
    pub const DEFAULT_HOST: &'static str = "0.0.0.0";
    /// The default port when neither the configuration nor `PORT` gives one.
    pub const DEFAULT_PORT: u16 = 8080;
    /// The default shutdown grace period (Ktor's).
    pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_millis(1000);
    /// The default shutdown timeout (Ktor's).
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(5000);
    /// The default longest request line, in bytes.
    pub const DEFAULT_MAX_INITIAL_LINE_LENGTH: usize = 4096;
    /// The default largest header section, in bytes.
    pub const DEFAULT_MAX_HEADER_SIZE: usize = 8192;
    /// The default most header fields.
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    /// The default largest request body: 10 MiB.
    pub const DEFAULT_MAX_BODY_SIZE: u64 = 10 * 1024 * 1024;
    /// The default request read timeout.
    pub const DEFAULT_REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default idle timeout of a keep-alive connection.
    pub const DEFAULT_CONNECTION_IDLE_TIMEOUT: Duration = Duration::from_secs(45);

    /// Reads the deployment settings from `config`; `env` gives environment variables (`PORT`), for example
    /// `&|name| std::env::var(name).ok()`.
    ///
    /// # Errors
    /// A configuration error naming the key (or the environment variable), the value and what was expected,
    /// for a value of the wrong type or out of range, a shutdown timeout below the grace period, and an HTTPS
    /// setup that lacks the certificate or the private key.
    pub fn from_config(config: &ApplicationConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let defaults = DeploymentConfig::default();
        let host = match config.get::<String>(HOST)? {
            Some(host) if host.trim().is_empty() => {
                return Err(Error::config(format!(
                    "config key `{}` is empty: set a host name or address such as 0.0.0.0",
                    found(config, HOST)
                )));
            }
            Some(host) => host,
            None => defaults.host,
        };
        let port = match number::<u16>(config, PORT, PORT_DESCRIPTION)? {
            Some(port) => port,
            None => match env(PORT_ENV).filter(|value| !value.trim().is_empty()) {
                Some(value) => value.trim().parse::<u16>().map_err(|_| {
                    Error::config(format!(
                        "environment variable `{PORT_ENV}` has value {value:?}, which is not {PORT_DESCRIPTION}; \
                         fix it or set `{PORT}`"
                    ))
                })?,
                None => Self::DEFAULT_PORT,
            },
        };
        let ssl_port = number::<u16>(config, SSL_PORT, PORT_DESCRIPTION)?;
        let ssl_certificate = config.get::<PathBuf>(SSL_CERTIFICATE)?;
        let ssl_private_key = config.get::<PathBuf>(SSL_PRIVATE_KEY)?;
        if ssl_port.is_some() || ssl_certificate.is_some() || ssl_private_key.is_some() {
            let reason = if ssl_port.is_some() {
                format!("`{}` is set", found(config, SSL_PORT))
            } else if ssl_certificate.is_some() {
                format!("`{}` is set", found(config, SSL_CERTIFICATE))
            } else {
                format!("`{}` is set", found(config, SSL_PRIVATE_KEY))
            };
            let key_store_hint =
                if config.contains(SSL_KEY_STORE) { " (Rotor reads PEM files, not Ktor's `keyStore`)" } else { "" };
            for (key, value, what) in [
                (SSL_CERTIFICATE, &ssl_certificate, "the PEM certificate chain"),
                (SSL_PRIVATE_KEY, &ssl_private_key, "the PEM private key"),
            ] {
                if value.is_none() {
                    return Err(Error::config(format!(
                        "{reason}, so `{key}` is required: set it to the path of {what}{key_store_hint}"
                    )));
                }
            }
        }
        let root_path = match config.get::<String>(ROOT_PATH)? {
            None => defaults.root_path,
            Some(path) => {
                let trimmed = path.trim_end_matches('/');
                if !trimmed.is_empty() && !trimmed.starts_with('/') {
                    return Err(Error::config(format!(
                        "config key `{}` has value {path:?}, which is not a path: it must start with `/` \
                         (for example /api)",
                        found(config, ROOT_PATH)
                    )));
                }
                trimmed.to_owned()
            }
        };
        let shutdown_grace_period = config.duration(SHUTDOWN_GRACE_PERIOD)?.unwrap_or(defaults.shutdown_grace_period);
        let shutdown_timeout = config.duration(SHUTDOWN_TIMEOUT)?.unwrap_or(defaults.shutdown_timeout);
        if shutdown_timeout < shutdown_grace_period {
            return Err(Error::config(format!(
                "`{}` ({shutdown_timeout:?}) is shorter than `{}` ({shutdown_grace_period:?}); the timeout must be \
                 at least the grace period",
                found(config, SHUTDOWN_TIMEOUT),
                found(config, SHUTDOWN_GRACE_PERIOD)
            )));
        }
        let modules = match config.lookup(MODULES) {
            None => Vec::new(),
            Some((_, ConfigValue::List(names))) => names.clone(),
            Some((_, ConfigValue::String(name))) if name.trim().is_empty() => Vec::new(),
            Some((_, ConfigValue::String(name))) => vec![name.clone()],
        };
        let development = config.boolean(DEVELOPMENT)?.unwrap_or(defaults.development);
        let workers = positive::<usize>(config, WORKERS)?;
        let runtime = match config.get::<String>(RUNTIME)? {
            None => defaults.runtime,
            Some(value) => value.parse::<RuntimeMode>().map_err(|_| {
                Error::config(format!(
                    "config key `{}` has value {value:?}, which is not a runtime: expected multi-thread or \
                     thread-per-core",
                    found(config, RUNTIME)
                ))
            })?,
        };
        let max_initial_line_length =
            byte_limit(config, MAX_INITIAL_LINE_LENGTH)?.unwrap_or(defaults.max_initial_line_length);
        let max_header_size = byte_limit(config, MAX_HEADER_SIZE)?.unwrap_or(defaults.max_header_size);
        let max_headers = positive::<usize>(config, MAX_HEADERS)?.unwrap_or(defaults.max_headers);
        let max_body_size = config.size(MAX_BODY_SIZE)?.unwrap_or(defaults.max_body_size);
        let request_read_timeout = seconds(config, REQUEST_READ_TIMEOUT)?.unwrap_or(defaults.request_read_timeout);
        let connection_idle_timeout =
            seconds(config, CONNECTION_IDLE_TIMEOUT)?.unwrap_or(defaults.connection_idle_timeout);
        let max_requests_per_connection = positive::<usize>(config, MAX_REQUESTS_PER_CONNECTION)?;
        Ok(DeploymentConfig {
            host,
            port,
            ssl_port,
            ssl_certificate,
            ssl_private_key,
            root_path,
            shutdown_grace_period,
            shutdown_timeout,
            modules,
            development,
            workers,
            runtime,
            max_initial_line_length,
            max_header_size,
            max_headers,
            max_body_size,
            request_read_timeout,
            connection_idle_timeout,
            max_requests_per_connection,
        })
    }

    /// The connectors these settings describe: HTTP on `host:port`, then HTTPS on `host:ssl_port` when set.
    pub fn connectors(&self) -> Vec<EngineConnector> {
        let mut connectors = vec![EngineConnector::http(self.host.clone(), self.port)];
        if let Some(ssl_port) = self.ssl_port {
            connectors.push(EngineConnector::https(self.host.clone(), ssl_port));
        }
        connectors
    }
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            host: String::from(Self::DEFAULT_HOST),
            port: Self::DEFAULT_PORT,
            ssl_port: None,
            ssl_certificate: None,
            ssl_private_key: None,
            root_path: String::new(),
            shutdown_grace_period: Self::DEFAULT_SHUTDOWN_GRACE_PERIOD,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
            modules: Vec::new(),
            development: false,
            workers: None,
            runtime: RuntimeMode::MultiThread,
            max_initial_line_length: Self::DEFAULT_MAX_INITIAL_LINE_LENGTH,
            max_header_size: Self::DEFAULT_MAX_HEADER_SIZE,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_body_size: Self::DEFAULT_MAX_BODY_SIZE,
            request_read_timeout: Some(Self::DEFAULT_REQUEST_READ_TIMEOUT),
            connection_idle_timeout: Some(Self::DEFAULT_CONNECTION_IDLE_TIMEOUT),
            max_requests_per_connection: None,
        }
    }
}

const PORT_DESCRIPTION: &str = "a port number (0 to 65535)";

/// The key that holds `key`'s value (`ktor.X` when read through the fallback), for messages.
fn found<'a>(config: &'a ApplicationConfig, key: &'a str) -> &'a str {
    config.lookup(key).map_or(key, |(found, _)| found)
}

/// `key` read as a `T`, the error saying it is not `expected`.
fn number<T: FromStr>(config: &ApplicationConfig, key: &str, expected: &str) -> Result<Option<T>> {
    match config.lookup(key) {
        None => Ok(None),
        Some((key, ConfigValue::List(_))) => {
            Err(Error::config(format!("config key `{key}` holds a list, but {expected} was expected")))
        }
        Some((key, ConfigValue::String(value))) => value
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| Error::config(format!("config key `{key}` has value {value:?}, which is not {expected}"))),
    }
}

/// `key` read as a whole number of at least 1.
fn positive<T: FromStr + PartialOrd + From<u8>>(config: &ApplicationConfig, key: &str) -> Result<Option<T>> {
    const EXPECTED: &str = "a whole number of at least 1 (remove the key for the default)";
    match number::<T>(config, key, EXPECTED)? {
        Some(value) if value < T::from(1) => {
            Err(Error::config(format!("config key `{}` is 0, which is not {EXPECTED}", found(config, key))))
        }
        value => Ok(value),
    }
}

/// `key` read as a size in bytes (`8192`, `16k`) of at least 1 that fits a `usize`.
fn byte_limit(config: &ApplicationConfig, key: &str) -> Result<Option<usize>> {
    match config.size(key)? {
        None => Ok(None),
        Some(bytes) => match usize::try_from(bytes) {
            Ok(bytes) if bytes >= 1 => Ok(Some(bytes)),
            _ => Err(Error::config(format!(
                "config key `{}` is {bytes} bytes, which is not a limit from 1 byte to {} bytes",
                found(config, key),
                usize::MAX
            ))),
        },
    }
}

/// `key` read as a timeout in seconds: a whole number is seconds, a HOCON duration with a unit (`30s`,
/// `1 minute`) is taken as written, and 0 disables the timeout (`Some(None)`).
fn seconds(config: &ApplicationConfig, key: &str) -> Result<Option<Option<Duration>>> {
    let Some((found, value)) = config.lookup(key) else { return Ok(None) };
    let duration = match value {
        ConfigValue::String(text) => match text.trim().parse::<u64>() {
            Ok(seconds) => Some(Duration::from_secs(seconds)),
            Err(_) if text.trim().chars().any(|c| c.is_ascii_alphabetic()) => super::load::duration(text),
            Err(_) => None,
        },
        ConfigValue::List(_) => None,
    };
    match duration {
        Some(duration) if duration.is_zero() => Ok(Some(None)),
        Some(duration) => Ok(Some(Some(duration))),
        None => Err(Error::config(format!(
            "config key `{found}` has value {}, which is not a timeout: expected a whole number of seconds (0 \
             disables it) or a duration such as `30s`",
            match value {
                ConfigValue::String(text) => format!("{text:?}"),
                ConfigValue::List(values) => format!("{values:?}"),
            }
        ))),
    }
}
