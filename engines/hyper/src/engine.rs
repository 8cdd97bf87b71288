//! `HyperEngine`: hyper's protocols on the engine base of `rotor-host-common` (listeners, accept loops,
//! thread-per-core workers, the engine clock, graceful stop).

use std::sync::Arc;
use std::time::Duration;

use rotor::engine::{ApplicationEngine, EngineSettings, ResolvedConnector};
use rotor::{Application, Result};
use rotor_host_common::BaseEngine;

use crate::connection::Shared;

/// Rotor's HTTP engine on hyper 1.x; made by [`Hyper`](crate::Hyper).
#[derive(Debug, Default)]
pub struct HyperEngine {
    base: BaseEngine,
}

impl HyperEngine {
    /// A stopped engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        self.base.open_connections()
    }
}

impl ApplicationEngine for HyperEngine {
    async fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> Result<Vec<ResolvedConnector>> {
        let signals = Arc::clone(self.base.signals());
        self.base
            .start(settings, |connector| {
                #[cfg(not(feature = "tls"))]
                if connector.tls.is_some() {
                    return Err(rotor::Error::config(
                        "an HTTPS connector is configured, but rotor-hyper was built without its `tls` feature",
                    ));
                }
                Ok(Arc::new(Shared::new(
                    Arc::clone(&application),
                    &settings.limits,
                    Arc::clone(&signals),
                    #[cfg(feature = "tls")]
                    connector.tls.as_ref().map(crate::tls::acceptor).transpose()?,
                )))
            })
            .await
    }

    async fn stop(&mut self, grace: Duration, timeout: Duration) {
        self.base.stop(grace, timeout).await;
    }
}
