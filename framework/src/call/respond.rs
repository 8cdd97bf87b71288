//! `Respond`: the future of `ApplicationCall::respond`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{ApplicationCall, ResponseValue};
use crate::pipeline::PipelineExecution;
use crate::{Error, Result};

/// The future of [`ApplicationCall::respond`] (and `respond_text`, `respond_bytes`, …): the send pipeline's
/// execution over the value, resolving to `Ok(())` once the content is committed to the call.
///
/// It is a named type of a few words rather than an `async fn`'s state machine, so that a handler's future,
/// which holds it across its `.await`, stays small (handlers' futures are boxed, and copied into the box).
///
/// ```
/// # rotor::doc_call(|call| async move {
/// let respond: rotor::call::Respond = call.respond_text("hi");
/// respond.await?;
/// assert!(call.is_handled());
/// assert!(call.respond_text("again").await.unwrap_err().is_response_already_sent());
/// # Ok(()) });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Respond {
    state: State,
}

enum State {
    /// The send pipeline runs.
    Running(PipelineExecution<ResponseValue, ApplicationCall>),
    /// Failed before the pipeline could start (the call was already answered); the error until it is returned.
    Failed(Option<Error>),
}

impl Respond {
    pub(super) fn running(execution: PipelineExecution<ResponseValue, ApplicationCall>) -> Self {
        Respond { state: State::Running(execution) }
    }

    pub(super) fn failed(error: Error) -> Self {
        Respond { state: State::Failed(Some(error)) }
    }
}

impl fmt::Debug for Respond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Running(execution) => f.debug_tuple("Respond").field(execution).finish(),
            State::Failed(_) => f.write_str("Respond(failed)"),
        }
    }
}

impl Future for Respond {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match &mut self.get_mut().state {
            State::Running(execution) => Pin::new(execution).poll(cx).map(|outcome| outcome.map(drop)),
            State::Failed(error) => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| Error::internal("a response's future was polled after it finished")))),
        }
    }
}
