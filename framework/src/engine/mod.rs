//! Engines: what serves an application over the wire, and how one is started and stopped.
//!
//! An engine crate (`rotor-hyper`) implements [`ApplicationEngine`] and a factory for it; `rotor-test` serves
//! in memory without one.

mod connector;
mod embedded;
mod engine_main;
pub mod logging;
mod server_config;
mod settings;
mod signals;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use connector::ResolvedConnector;
pub use embedded::{EmbeddedServer, StopHandle, embedded_server};
pub use engine_main::EngineMain;
pub use server_config::ServerConfig;
pub use settings::{ConnectorSettings, EngineSettings, ProtocolLimits, RuntimeMode, TlsFiles};

use crate::{Application, Result};

/// Serves an application on its connectors (Ktor's `ApplicationEngine`).
///
/// `start` binds every connector and begins accepting; it returns once the engine is listening, with the
/// connectors as bound (port 0 resolved to the port the system chose). `stop` stops accepting at once, lets
/// in-flight calls finish within the grace period, and cuts off what still runs at the timeout, counted from
/// the start of the stop.
pub trait ApplicationEngine: Send + 'static {
    /// Binds the connectors of `settings` and serves `application` on them.
    ///
    /// # Errors
    /// If a connector cannot be bound (the address is in use, the host does not resolve, TLS files are
    /// unusable); the message names the connector and what to do.
    fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> impl Future<Output = Result<Vec<ResolvedConnector>>> + Send;

    /// Stops serving: refuse new connections, let in-flight calls finish within `grace`, cut off the rest at
    /// `timeout`.
    fn stop(&mut self, grace: Duration, timeout: Duration) -> impl Future<Output = ()> + Send;
}

/// Makes engines of one kind (Ktor's `ApplicationEngineFactory`); `rotor_hyper::Hyper` is one.
pub trait ApplicationEngineFactory {
    /// The engine this factory makes.
    type Engine: ApplicationEngine;

    /// A new, stopped engine.
    fn create(&self) -> Self::Engine;
}
