//! Serves the hello module over HTTP with `embedded_server`: the host is `0.0.0.0`, the port comes from the
//! `PORT` environment variable (8080 without it), logs go to stdout, and SIGTERM or Ctrl-C stops the server
//! gracefully.
//!
//! ```sh
//! cargo run -p hello                 # http://127.0.0.1:8080
//! PORT=3000 cargo run -p hello       # http://127.0.0.1:3000
//! ```

use std::process::ExitCode;

use rotor::engine::{embedded_server, logging};
use rotor_hyper::Hyper;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    match embedded_server(Hyper, |config| config, hello::module).start(true).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello: {error}");
            ExitCode::FAILURE
        }
    }
}
