#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]

mod chunked;
mod connection;
mod date;
mod engine;
mod field_names;
mod head;
mod inbound;
mod outbound;
mod request_body;
mod response;

pub use engine::CioEngine;

use rotor::engine::ApplicationEngineFactory;

/// The factory of [`CioEngine`]s: pass it to `embedded_server` or `EngineMain`.
///
/// ```no_run
/// use rotor::engine::embedded_server;
/// use rotor::prelude::*;
/// use rotor_cio::Cio;
///
/// #[tokio::main]
/// async fn main() -> rotor::Result<()> {
///     embedded_server(Cio, |config| config.port(8080), |app: &mut Application| {
///         app.routing(|r| {
///             r.get("/", |call: ApplicationCall| async move { call.respond_text("Hello").await });
///         });
///     })
///     .start(true)
///     .await
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Cio;

impl ApplicationEngineFactory for Cio {
    type Engine = CioEngine;

    fn create(&self) -> CioEngine {
        CioEngine::new()
    }
}
