//! The load comparison's Rotor application, written as a user writes it: `get` routes, the DefaultHeaders
//! plugin for `Date` and `Server` (`Rotor/<version>`), ContentNegotiation for the JSON body (serde_json, per
//! request), Rotor's stdout logging at its default level (`info`: the start-up lines, no per-call lines, as
//! CallLogging is not installed). Every deployment setting keeps its default: the tokio runtime of
//! `#[tokio::main]` (one worker per CPU the process may use: one under `taskset -c 0`), keep-alive idle
//! timeout 45 s, request read timeout 30 s. `rotor-server` serves it on the hyper engine, `rotor-cio-server` on
//! rotor-cio.
//!
//! `PORT=0 rotor-server` binds 127.0.0.1 on a free port and logs `Responding at http://127.0.0.1:<port>`.

use std::process::ExitCode;

use rotor::engine::{ApplicationEngineFactory, embedded_server, logging};
use rotor::plugins::content_negotiation::ContentNegotiation;
use rotor::plugins::default_headers::DefaultHeaders;
use rotor::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// The application: `GET /plaintext` and `GET /json`.
pub fn module(app: &mut Application) {
    app.install(DefaultHeaders, Default::default());
    app.install(ContentNegotiation, Default::default());
    app.routing(|r| {
        r.get("/plaintext", |call: ApplicationCall| async move { call.respond_text("Hello, World!").await });
        r.get("/json", |call: ApplicationCall| async move {
            call.respond_negotiated(Message { message: "Hello, World!" }).await
        });
    });
}

/// Serves [`module`] on engines of `factory` until SIGTERM or SIGINT.
pub async fn run<F: ApplicationEngineFactory>(name: &str, factory: F) -> ExitCode {
    logging::init();
    match embedded_server(factory, |config| config.host("127.0.0.1"), module).start(true).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}
