//! `PipelineContext`: what an interceptor sees of one execution of a pipeline.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use futures_util::FutureExt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{BoxFuture, Interceptor, Step};
use crate::Result;

/// The pre-built, shared list of interceptors that one execution walks.
pub(crate) type Interceptors<S, C> = Arc<[Arc<dyn Interceptor<S, C>>]>;

/// One execution of a pipeline, seen from an interceptor: the subject, the context, and the controls
/// [`proceed`](PipelineContext::proceed), [`proceed_with`](PipelineContext::proceed_with) and
/// [`finish`](PipelineContext::finish).
///
/// It is a cheap handle (cloning counts a reference). Every interceptor of one execution shares the same state,
/// so a subject changed by one is seen by the next.
///
/// ```
/// use rotor::pipeline::{Pipeline, PipelinePhase};
///
/// const MAIN: PipelinePhase = PipelinePhase::new("Main");
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut pipeline = Pipeline::<String, ()>::new([MAIN]);
/// pipeline.intercept(&MAIN, |ctx| async move {
///     ctx.subject().push_str(" world");
///     ctx.proceed().await?;            // runs the rest of the pipeline, then returns
///     ctx.subject().push('!');          // on the way out
///     Ok(())
/// });
/// pipeline.intercept(&MAIN, |ctx| async move {
///     ctx.subject().push_str(", again");
///     Ok(())
/// });
/// let result = pipeline.execute((), String::from("hello")).await.unwrap();
/// assert_eq!(result, "hello world, again!");
/// # });
/// ```
pub struct PipelineContext<S, C> {
    execution: Arc<Execution<S, C>>,
}

/// The state one execution's interceptors share. It is allocated once per execution; walking the interceptors
/// takes no further allocation and no atomic read-modify-write for a step that does not wait.
pub(crate) struct Execution<S, C> {
    context: C,
    subject: Mutex<Option<S>>,
    interceptors: Interceptors<S, C>,
    /// The index of the next interceptor to start. Only the flow that is running the interceptors moves it
    /// (the loop, or a `proceed` inside one of them, one at a time), so a plain load and store suffice.
    next: AtomicUsize,
    /// Set by [`PipelineContext::finish`], from any clone of the context: a separate flag, so that a `finish`
    /// from another task is never overwritten by the loop's store of `next`.
    finished: AtomicBool,
}

impl<S, C> Clone for PipelineContext<S, C> {
    fn clone(&self) -> Self {
        PipelineContext { execution: Arc::clone(&self.execution) }
    }
}

impl<S, C> fmt::Debug for PipelineContext<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineContext")
            .field("next", &self.execution.next.load(Ordering::Relaxed))
            .field("finished", &self.execution.finished.load(Ordering::Relaxed))
            .field("interceptors", &self.execution.interceptors.len())
            .finish_non_exhaustive()
    }
}

impl<S, C> PipelineContext<S, C>
where
    S: Send + 'static,
    C: Send + Sync + 'static,
{
    /// Runs `interceptors` from the first to the last with `subject` and returns the final subject.
    pub(crate) async fn execute(interceptors: Interceptors<S, C>, context: C, subject: S) -> Result<S> {
        let ctx = PipelineContext {
            execution: Arc::new(Execution {
                context,
                subject: Mutex::new(Some(subject)),
                interceptors,
                next: AtomicUsize::new(0),
                finished: AtomicBool::new(false),
            }),
        };
        ctx.run().await?;
        let subject = match Arc::try_unwrap(ctx.execution) {
            Ok(execution) => execution.subject.into_inner().unwrap_or_else(PoisonError::into_inner),
            // An interceptor kept a clone of its context: take the subject out of the shared state.
            Err(execution) => execution.subject.lock().unwrap_or_else(PoisonError::into_inner).take(),
        };
        subject.ok_or_else(|| crate::Error::internal("the pipeline's subject was taken by an interceptor"))
    }

    /// The flat loop: start interceptors one after another until none is left or the execution finished.
    /// A `proceed` call runs this same loop from inside an interceptor.
    async fn run(&self) -> Result<()> {
        while let Some(pending) = self.run_ready()? {
            // A panic while the step is polled becomes an error at this step, like one in `intercept`.
            AssertUnwindSafe(pending)
                .catch_unwind()
                .await
                .map_err(|payload| crate::Error::from_panic(payload.as_ref()))??;
        }
        Ok(())
    }

    /// Starts interceptors, without any future, while their steps are ready at once (sync interceptors); returns
    /// the first step that has to wait, or `None` once no interceptor is left to start.
    ///
    /// A ready step costs a call through the interceptor's vtable with the context borrowed: no allocation, no
    /// atomic read-modify-write, no future.
    fn run_ready(&self) -> Result<Option<BoxFuture<Result<()>>>> {
        let execution = &*self.execution;
        let interceptors = &*execution.interceptors;
        loop {
            // Read again at every step: an interceptor may have run the rest itself (`proceed`).
            let index = execution.next.load(Ordering::Acquire);
            let Some(interceptor) = interceptors.get(index) else { return Ok(None) };
            if execution.finished.load(Ordering::Acquire) {
                execution.next.store(interceptors.len(), Ordering::Release);
                return Ok(None);
            }
            execution.next.store(index + 1, Ordering::Release);
            // A panic in an interceptor becomes an error here, so earlier interceptors see it come out of their
            // `proceed` like any other error, and the process goes on. `catch_unwind` costs nothing unless
            // something panics.
            let step = catch_unwind(AssertUnwindSafe(|| interceptor.intercept_ref(self)))
                .map_err(|payload| crate::Error::from_panic(payload.as_ref()))?;
            match step {
                Step::Ready(Some(Err(error))) => return Err(error),
                Step::Ready(_) => {}
                Step::Pending(future) => return Ok(Some(future)),
            }
        }
    }

    /// Runs every interceptor after this one, then returns, so that code after the call runs "on the way out".
    ///
    /// An error from a later interceptor comes out of this call, where it can be handled. When this returns,
    /// the rest of the pipeline has run; returning from the interceptor continues nothing further.
    ///
    /// One execution runs one interceptor at a time: call `proceed` from the interceptor's own flow, not from
    /// several tasks at once.
    pub async fn proceed(&self) -> Result<()> {
        self.run().await
    }

    /// Replaces the subject with `subject`, then [`proceed`](Self::proceed)s.
    pub async fn proceed_with(&self, subject: S) -> Result<()> {
        self.set_subject(subject);
        self.proceed().await
    }

    /// Stops the execution: interceptors that have not started do not run. Interceptors that are waiting in
    /// [`proceed`](Self::proceed) still resume and finish.
    pub fn finish(&self) {
        self.execution.finished.store(true, Ordering::Release);
    }

    /// True once [`finish`](Self::finish) was called or every interceptor has started.
    pub fn is_finished(&self) -> bool {
        let execution = &*self.execution;
        execution.finished.load(Ordering::Acquire)
            || execution.next.load(Ordering::Acquire) >= execution.interceptors.len()
    }
}

impl<S, C> PipelineContext<S, C> {
    /// The context of this execution (for application pipelines, the `ApplicationCall`).
    pub fn context(&self) -> &C {
        &self.execution.context
    }

    /// The subject, locked for reading or changing. Do not hold it across an `.await`.
    ///
    /// # Panics
    /// If the pipeline has already returned its subject (a context kept past the end of its execution).
    pub fn subject(&self) -> Subject<'_, S> {
        let guard = self.execution.subject.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(guard.is_some(), "the pipeline's execution has ended; its subject is gone");
        Subject { guard }
    }

    /// Replaces the subject, returning the old one.
    pub fn replace_subject(&self, subject: S) -> S {
        std::mem::replace(&mut *self.subject(), subject)
    }

    /// Replaces the subject.
    pub fn set_subject(&self, subject: S) {
        *self.subject() = subject;
    }
}

/// The locked subject of a [`PipelineContext`]; dereferences to `S`.
pub struct Subject<'a, S> {
    guard: MutexGuard<'a, Option<S>>,
}

impl<S> Deref for Subject<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        // Checked when the guard was made.
        self.guard.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl<S> DerefMut for Subject<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.guard.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<S: fmt::Debug> fmt::Debug for Subject<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
