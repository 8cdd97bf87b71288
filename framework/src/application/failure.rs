//! How a call ends: the answer for an unhandled call, and for an error that escaped every interceptor.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::StatusCode;
use http::header::ALLOW;

use super::Application;
use crate::call::{ApplicationCall, OutgoingContent};
use crate::pipeline::{BoxFuture, Interceptors, List, PipelineExecution};
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
    /// The returned future does not borrow the application or the call (it holds a handle to the call), so an
    /// engine can store it as it is; nothing runs until it is polled.
    ///
    /// # Errors
    /// The error that escaped, after it has been logged and answered (so tests can inspect it).
    pub fn execute(&self, call: &ApplicationCall) -> CallExecution {
        // This application's pipeline, over a handle of the call's own (`ApplicationCall::execute` reads its
        // application's pipeline through the call instead).
        let stage = Stage::Pipeline(self.pipeline().execute(call.clone(), ()));
        CallExecution { stage, development: self.environment().development() }
    }

    async fn answer_unhandled(call: ApplicationCall) -> Result<()> {
        let (status, allow) = match call.unhandled_status() {
            Some(unhandled) => (unhandled.status, unhandled.allow),
            None => (StatusCode::NOT_FOUND, None),
        };
        if let Some(allow) = allow {
            call.response().headers_mut().insert(ALLOW, allow);
        }
        if let Err(error) = call.respond(status).await {
            log_failure(&call, &error);
            commit_bare(&call, status);
        }
        Ok(())
    }

    async fn answer_failure(call: ApplicationCall, error: Error, development: bool) -> Result<()> {
        let status = error.status();
        let text = if status.is_client_error() || development {
            error.to_string()
        } else {
            status.canonical_reason().unwrap_or("Internal Server Error").to_owned()
        };
        if let Err(second) = call.respond(OutgoingContent::text(text).with_status(status)).await {
            log_failure(&call, &second);
            commit_bare(&call, status);
        }
        Err(error)
    }
}

impl ApplicationCall {
    /// Runs this call through its application, as [`Application::execute`] does, taking the call rather than a
    /// second handle to it (engines make a call and hand it over: one reference count less per call).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rotor::prelude::*;
    /// use rotor::call::{ApplicationRequest, Body};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mut app = Application::default();
    /// app.routing(|r| {
    ///     r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
    /// });
    /// let head = rotor::http::Request::get("/").body(()).unwrap().into_parts().0;
    /// let call = ApplicationCall::new(Arc::new(app), ApplicationRequest::new(head, None, None), Body::empty());
    /// let execution = call.execute();
    /// let call = execution.call().clone();
    /// execution.await.unwrap();
    /// assert_eq!(call.response().take_http_response().unwrap().status(), 200);
    /// # });
    /// ```
    pub fn execute(self) -> CallExecution {
        let development = self.application().environment().development();
        CallExecution { stage: Stage::Pipeline(execute_call_pipeline(self)), development }
    }
}

/// The execution of the call pipeline of `call`'s application over `call`; it reads the interceptor list
/// through the call, which owns the application (no reference count of the list per call).
fn execute_call_pipeline(call: ApplicationCall) -> PipelineExecution<(), ApplicationCall> {
    fn interceptors(call: &ApplicationCall) -> &Interceptors<(), ApplicationCall> {
        call.application().pipeline().interceptors()
    }
    PipelineExecution::start(List::InContext(interceptors), call, ())
}

/// The future of [`Application::execute`]: the call pipeline, then, if the call is still unanswered or an error
/// escaped, its answer. It resolves to the error that escaped, if any.
///
/// It is a named type of a few words rather than an `async` block, so that an engine can keep it for each
/// request without boxing it; the rare ends (no answer, an error) are boxed when they happen.
#[must_use = "futures do nothing unless polled"]
pub struct CallExecution {
    development: bool,
    stage: Stage,
}

/// The stages of a [`CallExecution`]; each holds the call (the pipeline's execution holds it as its context).
enum Stage {
    /// The call pipeline runs.
    Pipeline(PipelineExecution<(), ApplicationCall>),
    /// The call is being answered for want of an answer, or after an error; resolves to the outcome.
    Answering(ApplicationCall, BoxFuture<Result<()>>),
    /// Resolved.
    Done(ApplicationCall),
    /// Only while the stage changes (never seen from outside `poll`).
    Taken,
}

impl CallExecution {
    /// The call, out of this execution, which ends here (a stage still running is dropped first, so that what it
    /// held of the call is let go before the call is returned).
    pub fn into_call(self) -> ApplicationCall {
        match self.stage {
            Stage::Pipeline(execution) => match execution.into_context() {
                Some(call) => call,
                None => unreachable!("the call pipeline's execution keeps its call"),
            },
            Stage::Answering(call, _) | Stage::Done(call) => call,
            Stage::Taken => unreachable!("a stage is taken only inside `poll`, which puts the next one back"),
        }
    }

    /// The call being executed.
    pub fn call(&self) -> &ApplicationCall {
        match &self.stage {
            Stage::Pipeline(execution) => match execution.context() {
                Some(call) => call,
                // The execution keeps its context until it is dropped; this future moves the call out of it
                // when it leaves the pipeline stage.
                None => unreachable!("the call pipeline's execution keeps its call"),
            },
            Stage::Answering(call, _) | Stage::Done(call) => call,
            Stage::Taken => unreachable!("a stage is taken only inside `poll`, which puts the next one back"),
        }
    }
}

impl fmt::Debug for CallExecution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match &self.stage {
            Stage::Pipeline(_) => "pipeline",
            Stage::Answering(..) => "answering",
            Stage::Done(_) | Stage::Taken => "done",
        };
        let call = match &self.stage {
            Stage::Pipeline(execution) => execution.context(),
            Stage::Answering(call, _) | Stage::Done(call) => Some(call),
            Stage::Taken => None,
        };
        f.debug_struct("CallExecution").field("call", &call).field("stage", &stage).finish()
    }
}

impl Future for CallExecution {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.stage {
                Stage::Pipeline(execution) => {
                    let outcome = ready!(Pin::new(&mut *execution).poll(cx));
                    let Stage::Pipeline(execution) = std::mem::replace(&mut this.stage, Stage::Taken) else {
                        unreachable!("matched just above")
                    };
                    let Some(call) = execution.into_context() else {
                        unreachable!("the call pipeline's execution keeps its call")
                    };
                    let answer: BoxFuture<Result<()>> = match outcome {
                        Ok(()) if call.is_handled() => {
                            this.stage = Stage::Done(call);
                            return Poll::Ready(Ok(()));
                        }
                        Ok(()) => Box::pin(Application::answer_unhandled(call.clone())),
                        Err(error) => {
                            log_failure(&call, &error);
                            if call.is_handled() {
                                this.stage = Stage::Done(call);
                                return Poll::Ready(Err(error));
                            }
                            Box::pin(Application::answer_failure(call.clone(), error, this.development))
                        }
                    };
                    this.stage = Stage::Answering(call, answer);
                }
                Stage::Answering(_, answer) => {
                    let outcome = ready!(answer.as_mut().poll(cx));
                    if let Stage::Answering(call, _) = std::mem::replace(&mut this.stage, Stage::Taken) {
                        this.stage = Stage::Done(call);
                    }
                    return Poll::Ready(outcome);
                }
                Stage::Done(_) | Stage::Taken => {
                    return Poll::Ready(Err(Error::internal("a call's execution was polled after it finished")));
                }
            }
        }
    }
}

/// Logs an error that escaped a call: at `error` for a server error, else at `debug`.
fn log_failure(call: &ApplicationCall, error: &Error) {
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

/// The answer of last resort, when the send pipeline itself fails: the status alone, no plugins involved.
fn commit_bare(call: &ApplicationCall, status: StatusCode) {
    // Committing fails only if something committed in the meantime, in which case the call is answered.
    let _ = call.response().commit(OutgoingContent::status_only(status));
}
