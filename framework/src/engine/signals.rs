//! Listening for the signals a process manager stops a server with.

/// The termination signals, listened for from the moment this is made: SIGTERM (process managers, container
/// runtimes, hosting platforms) and SIGINT (Ctrl-C). Make it before announcing that the server is ready, so
/// that a signal sent right after the announcement is not lost to the default action (which would end the
/// process without a graceful stop).
pub(crate) struct Termination {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Termination {
    /// Starts listening.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(signal) => Some(signal),
                Err(error) => {
                    tracing::warn!(target: "rotor::server", %error, "cannot listen for {name}");
                    None
                }
            };
            Termination {
                terminate: listen(SignalKind::terminate(), "SIGTERM"),
                interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Termination {}
        }
    }

    /// Waits for a termination signal and returns its name.
    pub(crate) async fn received(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = next(&mut self.terminate) => "SIGTERM",
                () = next(&mut self.interrupt) => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "SIGINT"
        }
    }
}
