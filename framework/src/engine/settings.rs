//! `EngineSettings`: what an engine needs to serve: connectors, protocol limits, shutdown times.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::DeploymentConfig;

/// Where an engine listens: a host and port, plain or with TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectorSettings {
    /// The host or address to bind (`0.0.0.0` for every IPv4 interface, `127.0.0.1` for loopback only).
    pub host: String,
    /// The port; 0 picks a free port, reported by the engine once bound.
    pub port: u16,
    /// TLS certificate and key, for an HTTPS connector.
    pub tls: Option<TlsFiles>,
}

/// PEM files of a TLS certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM (`rotor.security.ssl.certificate`).
    pub certificate: PathBuf,
    /// The private key, PEM: PKCS#8, PKCS#1 or SEC1 (`rotor.security.ssl.privateKey`).
    pub private_key: PathBuf,
}

/// Protocol limits and timeouts, read from the `rotor.deployment.` keys by
/// [`DeploymentConfig`](crate::config::DeploymentConfig), whose documentation lists each key and its default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolLimits {
    /// The longest request line (method, target, version) accepted; over it, 414.
    pub max_initial_line_length: usize,
    /// The most bytes of header lines accepted (names, values and separators); over it, 431.
    pub max_header_size: usize,
    /// The most header lines accepted; over it, 431.
    pub max_headers: usize,
    /// The largest request body accepted; over it, 413 (from `Content-Length` before any `100 Continue`, or
    /// while a body streams).
    pub max_body_size: u64,
    /// How long reading a request's headers, and then its body, may take (the connection is closed for
    /// headers; a body answers 408); `None` for no limit.
    pub request_read_timeout: Option<Duration>,
    /// How long a keep-alive connection may stay idle between requests; `None` for no limit. An engine may count
    /// time coarsely: `rotor-hyper` closes an idle connection between this timeout and a quarter of the shortest
    /// timeout later.
    pub connection_idle_timeout: Option<Duration>,
    /// How many requests one connection may carry (the last answer says `Connection: close`); `None` for no
    /// limit.
    pub max_requests_per_connection: Option<u64>,
}

impl ProtocolLimits {
    /// The limits configured in `deployment`.
    pub fn from_deployment(deployment: &DeploymentConfig) -> Self {
        ProtocolLimits {
            max_initial_line_length: deployment.max_initial_line_length,
            max_header_size: deployment.max_header_size,
            max_headers: deployment.max_headers,
            max_body_size: deployment.max_body_size,
            request_read_timeout: deployment.request_read_timeout,
            connection_idle_timeout: deployment.connection_idle_timeout,
            max_requests_per_connection: deployment.max_requests_per_connection.map(|max| max as u64),
        }
    }
}

impl Default for ProtocolLimits {
    fn default() -> Self {
        Self::from_deployment(&DeploymentConfig::default())
    }
}

/// How an engine spreads its connections over threads (`rotor.deployment.runtime`).
///
/// ```
/// use rotor::engine::RuntimeMode;
///
/// assert_eq!("thread-per-core".parse::<RuntimeMode>().unwrap(), RuntimeMode::ThreadPerCore);
/// assert_eq!(RuntimeMode::default(), RuntimeMode::MultiThread);
/// assert_eq!(RuntimeMode::ThreadPerCore.to_string(), "thread-per-core");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeMode {
    /// `multi-thread`, the default: connections run on the tokio runtime the server was started on; `EngineMain`
    /// makes it a work-stealing multi-thread runtime with `rotor.deployment.workers` threads (one per core by
    /// default).
    #[default]
    MultiThread,
    /// `thread-per-core`: the engine runs `rotor.deployment.workers` threads (one per core by default), each a
    /// single-threaded runtime with its own listening socket on the same port (`SO_REUSEPORT`; the kernel
    /// spreads new connections over them); a connection and its calls stay on the thread that accepted it. No
    /// work stealing and no wakeups across threads: faster for many short calls, but one slow call holds up the
    /// other connections of its thread. A task spawned by a handler runs on that handler's thread.
    ThreadPerCore,
}

impl RuntimeMode {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeMode::MultiThread => "multi-thread",
            RuntimeMode::ThreadPerCore => "thread-per-core",
        }
    }
}

impl std::fmt::Display for RuntimeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RuntimeMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim() {
            "multi-thread" => Ok(RuntimeMode::MultiThread),
            "thread-per-core" => Ok(RuntimeMode::ThreadPerCore),
            other => Err(format!("{other:?} is not a runtime: expected multi-thread or thread-per-core")),
        }
    }
}

/// Everything an engine is started with.
///
/// ```
/// use rotor::engine::{ConnectorSettings, EngineSettings};
///
/// let settings = EngineSettings::new(vec![ConnectorSettings { host: "127.0.0.1".into(), port: 0, tls: None }]);
/// assert_eq!(settings.limits.max_headers, 100);
/// assert_eq!(settings.shutdown_timeout.as_secs(), 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSettings {
    /// Where to listen.
    pub connectors: Vec<ConnectorSettings>,
    /// Protocol limits and timeouts.
    pub limits: ProtocolLimits,
    /// How long in-flight calls may run to completion after a stop begins (`shutdownGracePeriod`, 1 s).
    pub shutdown_grace_period: Duration,
    /// When what is still running is cut off, counted from the start of the stop (`shutdownTimeout`, 5 s).
    pub shutdown_timeout: Duration,
    /// How connections are spread over threads (`runtime`, multi-thread).
    pub runtime: RuntimeMode,
    /// The number of threads of a [`RuntimeMode::ThreadPerCore`] engine (`workers`; `None`: one per core).
    pub workers: Option<usize>,
}

impl EngineSettings {
    /// Settings with `connectors`, the default limits and Ktor's default shutdown times (1 s grace, 5 s
    /// timeout).
    pub fn new(connectors: Vec<ConnectorSettings>) -> Self {
        let defaults = DeploymentConfig::default();
        EngineSettings {
            connectors,
            limits: ProtocolLimits::from_deployment(&defaults),
            shutdown_grace_period: defaults.shutdown_grace_period,
            shutdown_timeout: defaults.shutdown_timeout,
            runtime: defaults.runtime,
            workers: defaults.workers,
        }
    }

    /// The settings `deployment` describes: HTTP on `host:port`, HTTPS on `host:sslPort` with the PEM files
    /// when an SSL port is set, the limits and the shutdown times.
    pub fn from_deployment(deployment: &DeploymentConfig) -> Self {
        let mut connectors =
            vec![ConnectorSettings { host: deployment.host.clone(), port: deployment.port, tls: None }];
        if let (Some(port), Some(certificate), Some(private_key)) =
            (deployment.ssl_port, &deployment.ssl_certificate, &deployment.ssl_private_key)
        {
            let tls = Some(TlsFiles { certificate: certificate.clone(), private_key: private_key.clone() });
            connectors.push(ConnectorSettings { host: deployment.host.clone(), port, tls });
        }
        EngineSettings {
            connectors,
            limits: ProtocolLimits::from_deployment(deployment),
            shutdown_grace_period: deployment.shutdown_grace_period,
            shutdown_timeout: deployment.shutdown_timeout,
            runtime: deployment.runtime,
            workers: deployment.workers,
        }
    }
}
