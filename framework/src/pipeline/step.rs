//! `Step`: the future an interceptor returns, ready at once or boxed.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::Result;

/// The boxed future of an interceptor that has to wait.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What an [`Interceptor`](super::Interceptor) returns: a result that is ready now (no allocation) or a future to
/// await. (An interceptor whose futures wait in a [`StepSlot`](super::StepSlot) answers
/// [`Interceptor::intercept_held`](super::Interceptor::intercept_held) with a `Poll` instead.)
///
/// ```
/// use rotor::pipeline::Step;
///
/// # tokio_test_block(async {
/// let ready = Step::ready(Ok(()));
/// assert!(ready.is_ready());
/// assert!(ready.await.is_ok());
/// let later = Step::boxed(async { Ok(()) });
/// assert!(!later.is_ready());
/// assert!(later.await.is_ok());
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub enum Step {
    /// Finished without waiting.
    Ready(Option<Result<()>>),
    /// Still to be awaited.
    Pending(BoxFuture<Result<()>>),
}

impl Step {
    /// A step that has already finished with `result`.
    pub fn ready(result: Result<()>) -> Self {
        Step::Ready(Some(result))
    }

    /// A step that finishes when `future` does. A future that is already a [`BoxFuture`] is kept as it is, not
    /// boxed again.
    pub fn boxed<F: Future<Output = Result<()>> + Send + 'static>(future: F) -> Self {
        let mut slot = Some(future);
        if let Some(boxed) = (&mut slot as &mut dyn Any).downcast_mut::<Option<BoxFuture<Result<()>>>>() {
            if let Some(boxed) = boxed.take() {
                return Step::Pending(boxed);
            }
        }
        match slot {
            Some(future) => Step::Pending(Box::pin(future)),
            None => unreachable!("taken only when it is a boxed future, which returned above"),
        }
    }

    /// True when the step finished without waiting.
    pub fn is_ready(&self) -> bool {
        matches!(self, Step::Ready(_))
    }
}

impl Future for Step {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match self.get_mut() {
            Step::Ready(result) => Poll::Ready(result.take().unwrap_or(Ok(()))),
            Step::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Ready(_) => f.write_str("Step::Ready"),
            Step::Pending(_) => f.write_str("Step::Pending"),
        }
    }
}
