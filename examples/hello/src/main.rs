//! Serves the hello module over HTTP with `embedded_server`: the host is `0.0.0.0`, the port comes from the
//! `PORT` environment variable (8080 without it), logs go to stdout, and SIGTERM or Ctrl-C stops the server
//! gracefully. It runs on the hyper engine (HTTP/1.1 and HTTP/2), or on rotor-cio, Rotor's own HTTP/1.1 engine,
//! with `ROTOR_ENGINE=cio`.
//!
//! ```sh
//! cargo run -p hello                      # http://127.0.0.1:8080
//! PORT=3000 cargo run -p hello            # http://127.0.0.1:3000
//! ROTOR_ENGINE=cio cargo run -p hello     # the same on rotor-cio
//! ```

use std::process::ExitCode;

use rotor::engine::{ApplicationEngineFactory, embedded_server, logging};
use rotor_cio::Cio;
use rotor_hyper::Hyper;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    match std::env::var("ROTOR_ENGINE").as_deref() {
        Err(_) | Ok("" | "hyper") => serve(Hyper).await,
        Ok("cio") => serve(Cio).await,
        Ok(other) => {
            eprintln!("hello: ROTOR_ENGINE={other:?} names no engine; use hyper (the default) or cio");
            ExitCode::FAILURE
        }
    }
}

async fn serve<F: ApplicationEngineFactory>(engine: F) -> ExitCode {
    match embedded_server(engine, |config| config, hello::module).start(true).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello: {error}");
            ExitCode::FAILURE
        }
    }
}
