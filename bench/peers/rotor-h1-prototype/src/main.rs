//! The rotor-server of the load comparison (same module: DefaultHeaders, ContentNegotiation, two `get` routes),
//! on a prototype HTTP/1.1 engine instead of hyper. An experiment to measure what Rotor's framework costs on an
//! engine of its own; see bench/README.md, "An engine of Rotor's own (prototype)". Not a product: it serves GET
//! requests without a body and nothing of HTTP/2, TLS or the deployment limits (see `engine`).
//!
//! `PORT=0 rotor-h1-prototype` binds 127.0.0.1 on a free port and logs `Responding at http://127.0.0.1:<port>`.

mod date;
mod engine;
mod wire;

use std::process::ExitCode;

use rotor::engine::{embedded_server, logging};
use rotor::plugins::content_negotiation::ContentNegotiation;
use rotor::plugins::default_headers::DefaultHeaders;
use rotor::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn module(app: &mut Application) {
    app.install(DefaultHeaders, Default::default());
    app.install(ContentNegotiation, Default::default());
    app.routing(|r| {
        r.get("/plaintext", |call: ApplicationCall| async move { call.respond_text("Hello, World!").await });
        r.get("/json", |call: ApplicationCall| async move {
            call.respond_negotiated(Message { message: "Hello, World!" }).await
        });
    });
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    match embedded_server(engine::H1, |config| config.host("127.0.0.1"), module).start(true).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rotor-h1-prototype: {error}");
            ExitCode::FAILURE
        }
    }
}
