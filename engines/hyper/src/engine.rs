//! `HyperEngine`: binds the connectors, accepts connections, and stops gracefully.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use rotor::engine::{ApplicationEngine, ConnectorSettings, EngineSettings, ProtocolLimits, ResolvedConnector};
use rotor::{Application, Error, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connection::{self, Activity};
use crate::service::CallService;

/// Rotor's HTTP engine on hyper 1.x; made by [`Hyper`](crate::Hyper).
#[derive(Debug, Default)]
pub struct HyperEngine {
    shutdown: CancellationToken,
    abort: CancellationToken,
    connections: TaskTracker,
    acceptors: Vec<JoinHandle<()>>,
}

/// What every connection of one connector shares.
struct Shared {
    application: Arc<Application>,
    limits: Arc<ProtocolLimits>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl HyperEngine {
    /// A stopped engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }
}

impl ApplicationEngine for HyperEngine {
    async fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> Result<Vec<ResolvedConnector>> {
        let started = self.bind_all(application, settings).await;
        if started.is_err() {
            // Nothing stays listening when one connector fails.
            self.shutdown.cancel();
            for acceptor in self.acceptors.drain(..) {
                let _ = acceptor.await;
            }
        }
        started
    }

    async fn stop(&mut self, grace: Duration, timeout: Duration) {
        self.stop_gracefully(grace, timeout).await;
    }
}

impl HyperEngine {
    async fn bind_all(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> Result<Vec<ResolvedConnector>> {
        let limits = Arc::new(settings.limits.clone());
        let builder = Arc::new(connection::protocol_builder(&limits));
        let mut bound = Vec::with_capacity(settings.connectors.len());
        for connector in &settings.connectors {
            let shared = Shared {
                application: Arc::clone(&application),
                limits: Arc::clone(&limits),
                builder: Arc::clone(&builder),
                #[cfg(feature = "tls")]
                tls: connector.tls.as_ref().map(crate::tls::acceptor).transpose()?,
            };
            #[cfg(not(feature = "tls"))]
            if connector.tls.is_some() {
                return Err(Error::config(
                    "an HTTPS connector is configured, but rotor-hyper was built without its `tls` feature",
                ));
            }
            let listener = bind(connector).await?;
            let local_addr = listener.local_addr().map_err(|error| bind_error(connector, &error))?;
            bound.push(ResolvedConnector::new(connector.host.clone(), local_addr, connector.tls.is_some()));
            let accept =
                accept_loop(listener, shared, self.shutdown.clone(), self.abort.clone(), self.connections.clone());
            self.acceptors.push(tokio::spawn(accept));
        }
        Ok(bound)
    }

    async fn stop_gracefully(&mut self, grace: Duration, timeout: Duration) {
        let started = Instant::now();
        self.shutdown.cancel();
        for acceptor in self.acceptors.drain(..) {
            // The accept loops end as soon as they see the shutdown; their listeners close with them.
            let _ = acceptor.await;
        }
        self.connections.close();
        let grace_deadline = started + grace;
        let hard_deadline = started + timeout.max(grace);
        if tokio::time::timeout_at(grace_deadline, self.connections.wait()).await.is_ok() {
            return;
        }
        tracing::warn!(
            target: "rotor::engine",
            connections = self.connections.len(),
            "calls still running after the grace period of {:.1} s; they are cut off {:.1} s after the stop began",
            grace.as_secs_f64(),
            timeout.as_secs_f64()
        );
        if tokio::time::timeout_at(hard_deadline, self.connections.wait()).await.is_ok() {
            return;
        }
        tracing::warn!(
            target: "rotor::engine",
            connections = self.connections.len(),
            "shutdown timeout reached; aborting the remaining connections"
        );
        self.abort.cancel();
        self.connections.wait().await;
    }
}

async fn bind(connector: &ConnectorSettings) -> Result<TcpListener> {
    TcpListener::bind((connector.host.as_str(), connector.port)).await.map_err(|error| bind_error(connector, &error))
}

fn bind_error(connector: &ConnectorSettings, error: &io::Error) -> Error {
    let address = format!("{}:{}", connector.host, connector.port);
    let advice = match error.kind() {
        io::ErrorKind::AddrInUse => format!(
            "port {} is already in use by another process; stop it, or choose another port with the PORT \
             environment variable or -port=<port>",
            connector.port
        ),
        io::ErrorKind::PermissionDenied => {
            "this process may not bind that port (ports below 1024 need privileges); choose a port of 1024 or \
             above with PORT or -port=<port>"
                .to_owned()
        }
        io::ErrorKind::AddrNotAvailable => format!(
            "host {} is not an address of this machine; use 0.0.0.0 for every interface or 127.0.0.1 for this \
             machine only (rotor.deployment.host or -host=)",
            connector.host
        ),
        _ => "check rotor.deployment.host and rotor.deployment.port".to_owned(),
    };
    Error::config(format!("cannot listen on {address}: {error}; {advice}"))
}

async fn accept_loop(
    listener: TcpListener,
    shared: Shared,
    shutdown: CancellationToken,
    abort: CancellationToken,
    connections: TaskTracker,
) {
    let shared = Arc::new(shared);
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote_addr)) => {
                let shared = Arc::clone(&shared);
                let (shutdown, abort) = (shutdown.clone(), abort.clone());
                connections.spawn(connection_task(stream, remote_addr, shared, shutdown, abort));
            }
            Err(error) if is_per_connection(&error) => {
                tracing::debug!(target: "rotor::engine", %error, "a connection failed while being accepted");
            }
            Err(error) => {
                // Out of file descriptors or memory: back off instead of spinning, and keep serving.
                tracing::error!(target: "rotor::engine", %error, "accepting connections failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}

async fn connection_task(
    stream: TcpStream,
    remote_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    abort: CancellationToken,
) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(target: "rotor::engine", %error, "cannot set TCP_NODELAY");
    }
    let Ok(local_addr) = stream.local_addr() else { return };
    let service = CallService {
        application: Arc::clone(&shared.application),
        limits: Arc::clone(&shared.limits),
        remote_addr,
        local_addr,
        activity: Arc::new(Activity::new()),
    };
    let builder = Arc::clone(&shared.builder);
    #[cfg(feature = "tls")]
    if let Some(tls) = &shared.tls {
        // A handshake never waits forever, even with no read timeout configured.
        let limit = shared.limits.request_read_timeout.unwrap_or(Duration::from_secs(30));
        let handshake = tokio::time::timeout(limit, tls.accept(stream));
        let stream = tokio::select! {
            () = abort.cancelled() => return,
            () = shutdown.cancelled() => return,
            handshake = handshake => match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(target: "rotor::engine", %error, %remote_addr, "TLS handshake failed");
                    return;
                }
                Err(_elapsed) => {
                    tracing::debug!(target: "rotor::engine", %remote_addr, "TLS handshake timed out");
                    return;
                }
            },
        };
        connection::serve(stream, builder, service, shutdown, abort).await;
        return;
    }
    connection::serve(stream, builder, service, shutdown, abort).await;
}
