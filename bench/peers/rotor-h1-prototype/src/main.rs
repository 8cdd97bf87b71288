//! The rotor-server of the load comparison (same module: DefaultHeaders, ContentNegotiation, two `get` routes),
//! on a prototype HTTP/1.1 engine instead of hyper. An experiment to measure what Rotor's framework costs on an
//! engine of its own; see bench/README.md, "An engine of Rotor's own (prototype)". Not a product: it serves
//! requests without a body and nothing of HTTP/2, TLS or the deployment limits (see `engine` and `wire`).
//!
//! `PORT=0 rotor-h1-prototype` binds 127.0.0.1 on a free port and logs `Responding at http://127.0.0.1:<port>`.
//!
//! `ROTOR_H1_MODULE` picks a lighter module, to measure what each part of the framework costs per request
//! (bench/instructions/measure.sh passes its environment on):
//! - `full` (the default): as rotor-server;
//! - `no-default-headers`: without DefaultHeaders (so without a `Server` header);
//! - `no-routing`: DefaultHeaders and ContentNegotiation, and one Call-phase interceptor that matches the path
//!   itself instead of routing;
//! - `call-only`: that interceptor alone, no plugin (`Content-Type` from `respond_text`/`respond_bytes`, JSON
//!   serialized with serde_json, no `Server` header).

mod date;
mod engine;
mod wire;

use std::process::ExitCode;

use rotor::application::ApplicationCallPipeline;
use rotor::engine::{embedded_server, logging};
use rotor::http::HeaderValue;
use rotor::plugins::content_negotiation::ContentNegotiation;
use rotor::plugins::default_headers::DefaultHeaders;
use rotor::prelude::*;
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

fn module(app: &mut Application) {
    let variant = std::env::var("ROTOR_H1_MODULE").unwrap_or_default();
    match variant.as_str() {
        "" | "full" => {}
        "no-default-headers" => {
            app.install(ContentNegotiation, Default::default());
            return routes(app);
        }
        "no-routing" => {
            app.install(DefaultHeaders, Default::default());
            app.install(ContentNegotiation, Default::default());
            return intercept_call(app);
        }
        "call-only" => return intercept_call(app),
        other => panic!("ROTOR_H1_MODULE={other}: expected full, no-default-headers, no-routing or call-only"),
    }
    app.install(DefaultHeaders, Default::default());
    app.install(ContentNegotiation, Default::default());
    routes(app);
}

fn routes(app: &mut Application) {
    app.routing(|r| {
        r.get("/plaintext", |call: ApplicationCall| async move { call.respond_text("Hello, World!").await });
        r.get("/json", |call: ApplicationCall| async move {
            call.respond_negotiated(Message { message: "Hello, World!" }).await
        });
    });
}

/// One Call-phase interceptor that answers both paths, instead of routing.
fn intercept_call(app: &mut Application) {
    app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
        let call = ctx.call();
        match call.request().path() {
            "/plaintext" => call.respond_text("Hello, World!").await,
            "/json" => {
                let json = serde_json::to_vec(&Message { message: "Hello, World!" })?;
                call.respond_bytes(json, HeaderValue::from_static("application/json")).await
            }
            _ => Ok(()),
        }
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
