#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod connection;
mod engine;
mod request_body;
mod service;
#[cfg(feature = "tls")]
mod tls;

pub use engine::HyperEngine;

use rotor::engine::ApplicationEngineFactory;

/// The factory of [`HyperEngine`]s: pass it to `embedded_server` or `EngineMain`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hyper;

impl ApplicationEngineFactory for Hyper {
    type Engine = HyperEngine;

    fn create(&self) -> HyperEngine {
        HyperEngine::new()
    }
}
