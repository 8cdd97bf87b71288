//! Rotor's load-comparison application (`src/lib.rs`) on the hyper engine.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    rotor_server::run("rotor-server", rotor_hyper::Hyper).await
}
