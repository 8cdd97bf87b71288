//! Serves the shop on `PORT` (8080 without it): `cargo run -p shop`, then open http://127.0.0.1:8080/.

use std::process::ExitCode;

use rotor::engine::{embedded_server, logging};
use rotor_hyper::Hyper;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    match embedded_server(Hyper, |config| config, shop::module).start(true).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shop: {error}");
            ExitCode::FAILURE
        }
    }
}
