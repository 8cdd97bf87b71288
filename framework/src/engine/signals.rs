//! Waiting for the signals a process manager stops a server with.

/// Waits for SIGTERM (process managers, container runtimes, hosting platforms) or SIGINT (Ctrl-C) and returns
/// the signal's name.
pub(crate) async fn termination() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(error) => {
                tracing::warn!(target: "rotor::server", %error, "cannot listen for SIGTERM; only SIGINT stops the server");
                interrupt().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        interrupt().await
    }
}

async fn interrupt() -> &'static str {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    "SIGINT"
}
