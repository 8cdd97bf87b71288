//! `BaseEngine`: binds the connectors, accepts connections, ticks the engine clock and stops gracefully; with
//! [`RuntimeMode::ThreadPerCore`], on worker threads of its own.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rotor::engine::{ConnectorSettings, EngineSettings, ResolvedConnector, RuntimeMode};
use rotor::{Error, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::signals::{Signals, Watch};

/// What serves the connections of one connector: the engine's own part (a protocol implementation).
pub trait ConnectionHandler: Send + Sync + 'static {
    /// Serves one accepted connection to its end. `shutdown` is cancelled as the engine begins to stop, for a
    /// connection that has not begun serving (a TLS handshake, the first bytes); one that serves watches the
    /// engine's [`Signals`].
    fn serve(
        self: Arc<Self>,
        stream: TcpStream,
        remote_addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// The part of an engine that does not depend on the protocol: listeners, accept loops, worker threads, the
/// clock, and the graceful stop (Ktor's `BaseApplicationEngine`).
///
/// ```
/// use std::net::SocketAddr;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use rotor::engine::{ConnectorSettings, EngineSettings};
/// use rotor_host_common::{BaseEngine, ConnectionHandler};
/// use tokio::io::AsyncWriteExt;
/// use tokio::net::TcpStream;
/// use tokio_util::sync::CancellationToken;
///
/// /// Says hello and closes.
/// struct Hello;
///
/// impl ConnectionHandler for Hello {
///     async fn serve(self: Arc<Self>, mut stream: TcpStream, _: SocketAddr, _: CancellationToken) {
///         let _ = stream.write_all(b"hello").await;
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let settings = EngineSettings::new(vec![ConnectorSettings { host: "127.0.0.1".into(), port: 0, tls: None }]);
/// let mut engine = BaseEngine::new();
/// let bound = engine.start(&settings, |_connector| Ok(Arc::new(Hello))).await.unwrap();
/// let mut client = TcpStream::connect(bound[0].local_addr()).await.unwrap();
/// let mut answer = String::new();
/// tokio::io::AsyncReadExt::read_to_string(&mut client, &mut answer).await.unwrap();
/// assert_eq!(answer, "hello");
/// engine.stop(Duration::from_secs(1), Duration::from_secs(2)).await;
/// # });
/// ```
#[derive(Debug, Default)]
pub struct BaseEngine {
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

impl BaseEngine {
    /// A stopped engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// The signals the engine sends its connections; a connection handler keeps a clone.
    pub fn signals(&self) -> &Arc<Signals> {
        &self.signals
    }

    /// Spawns `task` on the runtime the engine's connections run on: its first worker's with thread-per-core
    /// workers (`rotor.deployment.workers`), else the current one. For tasks that live as long as the engine
    /// serves (rotor-cio's date clock); call it from within a tokio runtime, after [`start`](Self::start).
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.workers.first() {
            Some(worker) => worker.handle.spawn(task),
            None => tokio::spawn(task),
        }
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Binds every connector of `settings` and serves each with the handler `handler_for` makes for it; returns
    /// once the engine listens, with the connectors as bound (port 0 resolved to the port the system chose).
    ///
    /// # Errors
    /// If a connector cannot be bound (the message names it and what to do), or `handler_for` fails; then
    /// nothing stays listening.
    pub async fn start<H: ConnectionHandler>(
        &mut self,
        settings: &EngineSettings,
        handler_for: impl FnMut(&ConnectorSettings) -> Result<Arc<H>>,
    ) -> Result<Vec<ResolvedConnector>> {
        let started = self.bind_all(settings, handler_for).await;
        if started.is_err() {
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

    async fn bind_all<H: ConnectionHandler>(
        &mut self,
        settings: &EngineSettings,
        mut handler_for: impl FnMut(&ConnectorSettings) -> Result<Arc<H>>,
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
            let handler = handler_for(connector)?;
            let local_addr = if self.workers.is_empty() {
                let listener = bind(connector).await?;
                let local_addr = listener.local_addr().map_err(|error| bind_error(connector, &error))?;
                self.acceptors.push(tokio::spawn(self.accept_loop(listener, handler)));
                local_addr
            } else {
                let listeners = bind_per_worker(connector, &self.workers).await?;
                let local_addr = listeners[0].local_addr().map_err(|error| bind_error(connector, &error))?;
                for (worker, listener) in self.workers.iter().zip(listeners) {
                    self.acceptors.push(worker.handle.spawn(self.accept_loop(listener, Arc::clone(&handler))));
                }
                local_addr
            };
            bound.push(ResolvedConnector::new(connector.host.clone(), local_addr, connector.tls.is_some()));
        }
        if let Some(watch) = Watch::new(&settings.limits) {
            let ticker = tick(Arc::downgrade(&self.signals), watch.tick);
            self.ticker = Some(match self.workers.first() {
                Some(worker) => worker.handle.spawn(ticker),
                None => tokio::spawn(ticker),
            });
        }
        Ok(bound)
    }

    fn accept_loop<H: ConnectionHandler>(
        &self,
        listener: TcpListener,
        handler: Arc<H>,
    ) -> impl Future<Output = ()> + Send + 'static {
        accept_loop(listener, handler, self.shutdown.clone(), self.connections.clone())
    }

    /// Stops serving: stop accepting at once, let in-flight calls finish within `grace`, cut off the rest at
    /// `timeout`, counted from the start of the stop.
    pub async fn stop(&mut self, grace: Duration, timeout: Duration) {
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

async fn accept_loop<H: ConnectionHandler>(
    listener: TcpListener,
    handler: Arc<H>,
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
                connections.spawn(Arc::clone(&handler).serve(stream, remote_addr, shutdown.clone()));
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
