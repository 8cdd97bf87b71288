//! `CioEngine`: the connections of `connection.rs` on the engine base of `rotor-host-common` (listeners, accept
//! loops, thread-per-core workers, the engine clock, graceful stop).

use std::sync::Arc;
use std::time::Duration;

use rotor::engine::{ApplicationEngine, EngineSettings, ResolvedConnector};
use rotor::{Application, Error, Result};
use rotor_host_common::{BaseEngine, Watch};

use crate::connection::Shared;
use crate::date::DateClock;

/// Rotor's own HTTP/1.1 engine; made by [`Cio`](crate::Cio).
#[derive(Debug, Default)]
pub struct CioEngine {
    base: BaseEngine,
    /// Keeps `Date` current while the engine runs (see `date.rs`).
    date_clock: Option<DateClock>,
}

impl CioEngine {
    /// A stopped engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.base.open_connections()
    }
}

impl ApplicationEngine for CioEngine {
    async fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> Result<Vec<ResolvedConnector>> {
        let shared = Arc::new(Shared {
            application,
            limits: settings.limits.clone(),
            signals: Arc::clone(self.base.signals()),
            watch: Watch::new(&settings.limits),
        });
        let connectors = self
            .base
            .start(settings, |connector| {
                if connector.tls.is_some() {
                    return Err(Error::config(format!(
                        "an HTTPS connector is configured on port {}, but rotor-cio serves HTTP/1.1 over cleartext \
                         only; serve HTTPS with rotor-hyper, or terminate TLS in front of the server",
                        connector.port
                    )));
                }
                Ok(Arc::clone(&shared))
            })
            .await?;
        self.date_clock = Some(DateClock::start(|task| self.base.spawn(task)));
        Ok(connectors)
    }

    async fn stop(&mut self, grace: Duration, timeout: Duration) {
        self.base.stop(grace, timeout).await;
        self.date_clock = None;
    }
}
