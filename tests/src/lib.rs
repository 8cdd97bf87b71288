//! Black-box tests of Rotor live in `tests/`: the framework and an engine together, driven from outside.
//! Socket-level tests (limits, malformed requests, TLS, graceful stop) join them with the HTTP engine.
//!
//! The repository's README is compiled here too, so its examples stay true:
#![doc = include_str!("../../README.md")]

use std::sync::Arc;
use std::time::Duration;

use rotor::Application;
use rotor::engine::{ApplicationEngine, ApplicationEngineFactory, EngineSettings, ResolvedConnector};

/// The HTTP engines the black-box tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// `rotor-hyper`: HTTP/1.1, HTTP/2, TLS.
    Hyper,
    /// `rotor-cio`: Rotor's own HTTP/1.1 engine.
    Cio,
}

impl EngineKind {
    /// The engine chosen by `ROTOR_TEST_ENGINE` (`hyper`, the default, or `cio`); `scripts/test.sh` runs the
    /// black-box tests once with each.
    ///
    /// # Panics
    /// If `ROTOR_TEST_ENGINE` names no engine (a test setup mistake, never a server's input).
    pub fn from_env() -> EngineKind {
        match std::env::var("ROTOR_TEST_ENGINE").as_deref() {
            Err(_) | Ok("" | "hyper") => EngineKind::Hyper,
            Ok("cio") => EngineKind::Cio,
            Ok(other) => panic!("ROTOR_TEST_ENGINE={other:?} names no engine: use hyper or cio"),
        }
    }
}

/// The factory of the engine [`EngineKind::from_env`] chooses.
///
/// ```
/// use rotor::engine::ApplicationEngineFactory;
/// use rotor_tests::{EngineKind, TestEngine, TestEngines};
///
/// let engine = TestEngines.create();
/// assert_eq!(matches!(engine, TestEngine::Cio(_)), EngineKind::from_env() == EngineKind::Cio);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TestEngines;

impl ApplicationEngineFactory for TestEngines {
    type Engine = TestEngine;

    fn create(&self) -> TestEngine {
        TestEngine::new(EngineKind::from_env())
    }
}

/// One engine of either kind.
#[derive(Debug)]
pub enum TestEngine {
    /// A `rotor-hyper` engine.
    Hyper(rotor_hyper::HyperEngine),
    /// A `rotor-cio` engine.
    Cio(rotor_cio::CioEngine),
}

impl TestEngine {
    /// A stopped engine of `kind`.
    pub fn new(kind: EngineKind) -> TestEngine {
        match kind {
            EngineKind::Hyper => TestEngine::Hyper(rotor_hyper::HyperEngine::new()),
            EngineKind::Cio => TestEngine::Cio(rotor_cio::CioEngine::new()),
        }
    }

    /// The number of connections open now.
    pub fn open_connections(&self) -> usize {
        match self {
            TestEngine::Hyper(engine) => engine.open_connections(),
            TestEngine::Cio(engine) => engine.open_connections(),
        }
    }
}

impl ApplicationEngine for TestEngine {
    async fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> rotor::Result<Vec<ResolvedConnector>> {
        match self {
            TestEngine::Hyper(engine) => engine.start(application, settings).await,
            TestEngine::Cio(engine) => engine.start(application, settings).await,
        }
    }

    async fn stop(&mut self, grace: Duration, timeout: Duration) {
        match self {
            TestEngine::Hyper(engine) => engine.stop(grace, timeout).await,
            TestEngine::Cio(engine) => engine.stop(grace, timeout).await,
        }
    }
}
