//! Rotor's load-comparison application (`src/lib.rs`) on rotor-cio, Rotor's own HTTP/1.1 engine.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    rotor_server::run("rotor-cio-server", rotor_cio::Cio).await
}
