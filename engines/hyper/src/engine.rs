//! `HyperEngine`: binds the connectors, accepts connections, and stops gracefully; with
//! [`RuntimeMode::ThreadPerCore`], on worker threads of its own.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rotor::engine::{ApplicationEngine, ConnectorSettings, EngineSettings, ResolvedConnector, RuntimeMode};
use rotor::{Application, Error, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connection::{self, Shared, Signals};

/// Rotor's HTTP engine on hyper 1.x; made by [`Hyper`](crate::Hyper).
#[derive(Debug, Default)]
pub struct HyperEngine {
    /// Ends the accept loops, and connections that have not begun serving.
    shutdown: CancellationToken,
    /// Stop, abort and ticks for the connections that serve.
    signals: Arc<Signals>,
    connections: TaskTracker,
    acceptors: Vec<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    workers: Vec<Worker>,
}

/// A thread of a thread-per-core engine: a single-threaded runtime that runs until told to exit.
#[derive(Debug)]
struct Worker {
    handle: Handle,
    exit: oneshot::Sender<()>,
    exited: oneshot::Receiver<()>,
}

impl Worker {
    fn spawn(index: usize) -> io::Result<Worker> {
        let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
        let (exit, exit_requested) = oneshot::channel::<()>();
        let (exited_sender, exited) = oneshot::channel::<()>();
        std::thread::Builder::new().name(format!("rotor-worker-{index}")).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = handle_sender.send(Err(error));
                    return;
                }
            };
            let _ = handle_sender.send(Ok(runtime.handle().clone()));
            // Runs the accept loop and the connections until the engine has stopped (or is dropped).
            runtime.block_on(async move {
                let _ = exit_requested.await;
            });
            drop(runtime);
            let _ = exited_sender.send(());
        })?;
        let handle = handle_receiver
            .recv()
            .map_err(|_| io::Error::other("the worker thread ended before its runtime started"))??;
        Ok(Worker { handle, exit, exited })
    }

    async fn exit(self) {
        let _ = self.exit.send(());
        let _ = self.exited.await;
    }
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
            if let Some(ticker) = self.ticker.take() {
                ticker.abort();
            }
            for worker in self.workers.drain(..) {
                worker.exit().await;
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
        if settings.runtime == RuntimeMode::ThreadPerCore {
            let count = settings
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
            for index in 0..count {
                let worker = Worker::spawn(index)
                    .map_err(|error| Error::internal(format!("cannot start worker thread {index}: {error}")))?;
                self.workers.push(worker);
            }
        }
        let mut bound = Vec::with_capacity(settings.connectors.len());
        for connector in &settings.connectors {
            #[cfg(not(feature = "tls"))]
            if connector.tls.is_some() {
                return Err(Error::config(
                    "an HTTPS connector is configured, but rotor-hyper was built without its `tls` feature",
                ));
            }
            let shared = Arc::new(Shared::new(
                Arc::clone(&application),
                &settings.limits,
                Arc::clone(&self.signals),
                #[cfg(feature = "tls")]
                connector.tls.as_ref().map(crate::tls::acceptor).transpose()?,
            ));
            let local_addr = if self.workers.is_empty() {
                let listener = bind(connector).await?;
                let local_addr = listener.local_addr().map_err(|error| bind_error(connector, &error))?;
                self.acceptors.push(tokio::spawn(self.accept_loop(listener, shared)));
                local_addr
            } else {
                let listeners = bind_per_worker(connector, &self.workers).await?;
                let local_addr = listeners[0].local_addr().map_err(|error| bind_error(connector, &error))?;
                for (worker, listener) in self.workers.iter().zip(listeners) {
                    self.acceptors.push(worker.handle.spawn(self.accept_loop(listener, Arc::clone(&shared))));
                }
                local_addr
            };
            bound.push(ResolvedConnector::new(connector.host.clone(), local_addr, connector.tls.is_some()));
        }
        if let Some(watch) = connection::Watch::new(&settings.limits) {
            let ticker = tick(Arc::downgrade(&self.signals), watch.tick);
            self.ticker = Some(match self.workers.first() {
                Some(worker) => worker.handle.spawn(ticker),
                None => tokio::spawn(ticker),
            });
        }
        Ok(bound)
    }

    fn accept_loop(&self, listener: TcpListener, shared: Arc<Shared>) -> impl Future<Output = ()> + Send + 'static {
        accept_loop(listener, shared, self.shutdown.clone(), self.connections.clone())
    }

    async fn stop_gracefully(&mut self, grace: Duration, timeout: Duration) {
        let started = Instant::now();
        self.shutdown.cancel();
        for acceptor in self.acceptors.drain(..) {
            // The accept loops end as soon as they see the shutdown; their listeners close with them.
            let _ = acceptor.await;
        }
        self.signals.stop();
        self.connections.close();
        let grace_deadline = started + grace;
        let hard_deadline = started + timeout.max(grace);
        if tokio::time::timeout_at(grace_deadline, self.connections.wait()).await.is_err() {
            tracing::warn!(
                target: "rotor::engine",
                connections = self.connections.len(),
                "calls still running after the grace period of {:.1} s; they are cut off {:.1} s after the stop \
                 began",
                grace.as_secs_f64(),
                timeout.as_secs_f64()
            );
            if tokio::time::timeout_at(hard_deadline, self.connections.wait()).await.is_err() {
                tracing::warn!(
                    target: "rotor::engine",
                    connections = self.connections.len(),
                    "shutdown timeout reached; aborting the remaining connections"
                );
                self.signals.abort();
                self.connections.wait().await;
            }
        }
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        for worker in self.workers.drain(..) {
            worker.exit().await;
        }
    }
}

/// Ticks the engine's clock until the engine is gone.
async fn tick(signals: Weak<Signals>, every: Duration) {
    let mut interval = tokio::time::interval_at(Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(signals) = signals.upgrade() else { return };
        signals.tick();
    }
}

async fn bind(connector: &ConnectorSettings) -> Result<TcpListener> {
    TcpListener::bind((connector.host.as_str(), connector.port)).await.map_err(|error| bind_error(connector, &error))
}

/// One listener per worker on the same address: `SO_REUSEPORT` sockets on Unix (the kernel spreads new
/// connections over them), elsewhere one socket shared by the workers. Each is registered with its worker's
/// runtime.
async fn bind_per_worker(connector: &ConnectorSettings, workers: &[Worker]) -> Result<Vec<TcpListener>> {
    let addresses = tokio::net::lookup_host((connector.host.as_str(), connector.port))
        .await
        .map_err(|error| bind_error(connector, &error))?;
    let mut last_error = io::Error::new(io::ErrorKind::AddrNotAvailable, "the host resolves to no address");
    for address in addresses {
        match listen_per_worker(address, workers) {
            Ok(listeners) => return Ok(listeners),
            Err(error) => last_error = error,
        }
    }
    Err(bind_error(connector, &last_error))
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))))]
fn listen_per_worker(address: SocketAddr, workers: &[Worker]) -> io::Result<Vec<TcpListener>> {
    let mut address = address;
    let mut listeners = Vec::with_capacity(workers.len());
    for worker in workers {
        let _runtime = worker.handle.enter();
        let socket =
            if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(address)?;
        let listener = socket.listen(1024)?;
        // With port 0, the first socket's port for the others.
        address = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

#[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))))]
fn listen_per_worker(address: SocketAddr, workers: &[Worker]) -> io::Result<Vec<TcpListener>> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    workers
        .iter()
        .map(|worker| {
            let _runtime = worker.handle.enter();
            TcpListener::from_std(listener.try_clone()?)
        })
        .collect()
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
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    loop {
        let accepted = tokio::select! {
            () = &mut cancelled => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote_addr)) => {
                connections.spawn(serve(stream, remote_addr, Arc::clone(&shared), shutdown.clone()));
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

fn serve(
    stream: TcpStream,
    remote_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + Send + 'static {
    connection::serve(stream, remote_addr, shared, shutdown)
}

fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}
