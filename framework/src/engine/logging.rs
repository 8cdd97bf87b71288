//! Logs to stdout, as process managers and hosting platforms expect.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs a `tracing` subscriber that writes to stdout, filtered by `RUST_LOG` (`info` when unset), with
/// colours only on a terminal. Does nothing if the application installed a subscriber already.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}
