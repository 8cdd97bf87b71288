//! How a call ends: the answer for an unhandled call, and for an error that escaped every interceptor.

use http::StatusCode;
use http::header::ALLOW;

use super::Application;
use crate::call::{ApplicationCall, OutgoingContent};
use crate::{Error, Result};

impl Application {
    /// Runs `call` through the call pipeline and makes sure it is answered.
    ///
    /// - A call nothing answered gets the status routing recorded (404, 405 with `Allow`, 400, 406, 415) or
    ///   404, after the Fallback phase.
    /// - An error that escapes (including a panic, caught and turned into an error) is logged once with
    ///   `tracing` and answered with its mapped status ([`Error::status`]): 4xx with the error's message as
    ///   text, 5xx with the status's reason (and the message too in development mode).
    ///
    /// The application goes on serving other calls either way. Engines call this, then take the response
    /// with [`ApplicationResponse::take_http_response`](crate::call::ApplicationResponse::take_http_response).
    ///
    /// # Errors
    /// The error that escaped, after it has been logged and answered (so tests can inspect it).
    pub async fn execute(&self, call: &ApplicationCall) -> Result<()> {
        match self.pipeline().execute(call.clone(), ()).await {
            Ok(()) => {
                if !call.is_handled() {
                    self.answer_unhandled(call).await;
                }
                Ok(())
            }
            Err(error) => {
                self.log_failure(call, &error);
                if !call.is_handled() {
                    self.answer_failure(call, &error).await;
                }
                Err(error)
            }
        }
    }

    async fn answer_unhandled(&self, call: &ApplicationCall) {
        let (status, allow) = match call.unhandled_status() {
            Some(unhandled) => (unhandled.status, unhandled.allow),
            None => (StatusCode::NOT_FOUND, None),
        };
        if let Some(allow) = allow {
            call.response().headers_mut().insert(ALLOW, allow);
        }
        if let Err(error) = call.respond(status).await {
            self.log_failure(call, &error);
            commit_bare(call, status);
        }
    }

    async fn answer_failure(&self, call: &ApplicationCall, error: &Error) {
        let status = error.status();
        let text = if status.is_client_error() || self.environment().development() {
            error.to_string()
        } else {
            status.canonical_reason().unwrap_or("Internal Server Error").to_owned()
        };
        if let Err(second) = call.respond(OutgoingContent::text(text).with_status(status)).await {
            self.log_failure(call, &second);
            commit_bare(call, status);
        }
    }

    fn log_failure(&self, call: &ApplicationCall, error: &Error) {
        let request = call.request();
        let status = error.status().as_u16();
        if error.status().is_server_error() {
            tracing::error!(
                target: "rotor::call",
                method = %request.method(),
                path = request.path(),
                status,
                error = %error,
                "call failed"
            );
        } else {
            tracing::debug!(
                target: "rotor::call",
                method = %request.method(),
                path = request.path(),
                status,
                error = %error,
                "call rejected"
            );
        }
    }
}

/// The answer of last resort, when the send pipeline itself fails: the status alone, no plugins involved.
fn commit_bare(call: &ApplicationCall, status: StatusCode) {
    // Committing fails only if something committed in the meantime, in which case the call is answered.
    let _ = call.response().commit(OutgoingContent::status_only(status));
}
