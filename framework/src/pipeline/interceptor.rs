//! Interceptors: the code a pipeline runs in each phase.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use super::{PipelineContext, Step, StepSlot};
use crate::Result;

/// Code registered in a phase of a [`Pipeline`](super::Pipeline).
///
/// Most interceptors are closures given to [`Pipeline::intercept`](super::Pipeline::intercept)
/// (`|ctx| async move { … }`): their futures wait in [`StepSlot`]s the pipeline reuses (see there for when),
/// so they usually cost no allocation per call, and a clone of the context each. Wrap a closure that never waits
/// with [`sync`] (or [`in_place`]) to spare the future and the clone too, or implement this trait for a type of
/// your own.
///
/// An interceptor that returns without calling [`proceed`](PipelineContext::proceed) lets the next one run
/// (implicit proceed); one that calls it runs the rest of the pipeline inside that call.
///
/// ```
/// use rotor::pipeline::{Interceptor, PipelineContext, Step};
///
/// struct Count;
///
/// impl Interceptor<u32, ()> for Count {
///     fn intercept(&self, ctx: PipelineContext<u32, ()>) -> Step {
///         self.intercept_ref(&ctx)
///     }
///
///     // It does not keep the context: borrowing it saves a reference count per call.
///     fn intercept_ref(&self, ctx: &PipelineContext<u32, ()>) -> Step {
///         *ctx.subject() += 1;
///         Step::ready(Ok(()))
///     }
/// }
///
/// const MAIN: rotor::pipeline::PipelinePhase = rotor::pipeline::PipelinePhase::new("Main");
/// let mut pipeline = rotor::pipeline::Pipeline::<u32, ()>::new([MAIN]);
/// pipeline.add_interceptor(&MAIN, Count).unwrap();
/// pipeline.add_interceptor(&MAIN, Count).unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(pipeline.execute((), 0).await.unwrap(), 2);
/// # });
/// ```
pub trait Interceptor<S, C>: Send + Sync + 'static {
    /// Runs this interceptor for one execution of the pipeline.
    fn intercept(&self, ctx: PipelineContext<S, C>) -> Step;

    /// Runs this interceptor with the context borrowed.
    ///
    /// The default clones the context (a reference count) for [`intercept`](Self::intercept). An interceptor
    /// that does not keep the context past its return (one whose step is ready at once, like those made by
    /// [`sync`]) overrides it to save that count, and makes `intercept` call it.
    fn intercept_ref(&self, ctx: &PipelineContext<S, C>) -> Step {
        self.intercept(ctx.clone())
    }

    /// True if this interceptor's steps wait in the [`StepSlot`] the pipeline gives it: the pipeline then calls
    /// [`intercept_held`](Self::intercept_held) instead of [`intercept_ref`](Self::intercept_ref). Read once,
    /// when the pipeline's list is built; [`works_in_place`](Self::works_in_place) takes precedence. Default
    /// false; async closures registered with [`Pipeline::intercept`](super::Pipeline::intercept) say true.
    fn holds_steps(&self) -> bool {
        false
    }

    /// Runs this interceptor with the context borrowed, a slot for its step's future and the task context
    /// of the poll that runs it; called only if [`holds_steps`](Self::holds_steps) says so.
    ///
    /// An interceptor whose step waits on a future of one type returns
    /// [`slot.hold(future, cx)`](StepSlot::hold): the future lives in an allocation the pipeline reuses from
    /// call to call instead of a new box each time, and is polled a first time right there. `Poll::Pending`
    /// means "waiting in the slot": return it only from `hold` (a slot with nothing waiting in it ends the
    /// execution with an error). A ready answer after a `hold` that left a future waiting drops that future.
    ///
    /// The default calls [`intercept_ref`](Self::intercept_ref) and holds the future of a pending step.
    fn intercept_held(
        &self,
        ctx: &PipelineContext<S, C>,
        slot: &mut StepSlot,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        match self.intercept_ref(ctx) {
            Step::Ready(result) => Poll::Ready(result.unwrap_or(Ok(()))),
            Step::Pending(future) => slot.hold(future, cx),
        }
    }

    /// True if this interceptor works on the subject and the context alone, without the pipeline's controls
    /// (`proceed`, `finish`): the pipeline then calls [`intercept_in_place`](Self::intercept_in_place) instead of
    /// the other two. Read once, when the pipeline's list is built. Default false.
    ///
    /// An execution whose interceptors all work in place runs without any shared state (no allocation, no lock,
    /// no reference count of its own); it makes that state only when it reaches an interceptor that needs a
    /// [`PipelineContext`]. Where it has one, consecutive in-place interceptors run under one lock of the subject.
    fn works_in_place(&self) -> bool {
        false
    }

    /// Runs this interceptor on the subject, borrowed, in `context`; called only if
    /// [`works_in_place`](Self::works_in_place) says so. The default does nothing.
    ///
    /// The step it returns may wait (a future that owns what it needs: it cannot borrow the subject, which the
    /// pipeline holds); the next interceptor starts when it is done. Once the execution has a shared state, this
    /// runs with the subject locked (the step is made under the lock and awaited without it): it must not lock
    /// that execution's subject again. Routing's interceptor is one: it resolves
    /// the route in place and returns the handler's future.
    fn intercept_in_place(&self, subject: &mut S, context: &C) -> Step {
        let _ = (subject, context);
        Step::ready(Ok(()))
    }
}

/// An interceptor made of an async closure; see [`Pipeline::intercept`](super::Pipeline::intercept).
pub(crate) struct FnInterceptor<F, Fut> {
    f: F,
    _future: PhantomData<fn() -> Fut>,
}

impl<F, Fut> FnInterceptor<F, Fut> {
    pub(crate) fn new(f: F) -> Self {
        FnInterceptor { f, _future: PhantomData }
    }
}

impl<S, C, F, Fut> Interceptor<S, C> for FnInterceptor<F, Fut>
where
    F: Fn(PipelineContext<S, C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    fn intercept(&self, ctx: PipelineContext<S, C>) -> Step {
        Step::boxed((self.f)(ctx))
    }

    fn holds_steps(&self) -> bool {
        true
    }

    fn intercept_held(
        &self,
        ctx: &PipelineContext<S, C>,
        slot: &mut StepSlot,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        slot.hold((self.f)(ctx.clone()), cx)
    }
}

/// Wraps a closure that works on the subject in place, never waits and needs no pipeline control
/// ([`finish`](PipelineContext::finish), [`proceed`](PipelineContext::proceed)) into an [`Interceptor`]: it
/// costs no allocation; a pipeline whose interceptors are all of this kind runs without a shared state, and
/// where there is one, consecutive ones run under one lock of the subject (a plain [`sync`] closure locks it
/// each time it looks at it). The subject may be locked while the closure runs: it must not lock that same
/// execution's subject again (through a `PipelineContext` it captured), which would deadlock.
///
/// ```
/// use rotor::pipeline::{in_place, Pipeline, PipelinePhase};
///
/// const MAIN: PipelinePhase = PipelinePhase::new("Main");
/// let mut pipeline = Pipeline::<Vec<&str>, &'static str>::new([MAIN]);
/// pipeline.add_interceptor(&MAIN, in_place(|trail: &mut Vec<&str>, name: &&str| {
///     trail.push(name);
///     Ok(())
/// })).unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(pipeline.execute("main", Vec::new()).await.unwrap(), ["main"]);
/// # });
/// ```
pub fn in_place<S, C, F>(f: F) -> InPlaceInterceptor<F>
where
    F: Fn(&mut S, &C) -> Result<()> + Send + Sync + 'static,
{
    InPlaceInterceptor { f }
}

/// An interceptor made of a closure over the subject in place; made by [`in_place`].
pub struct InPlaceInterceptor<F> {
    f: F,
}

impl<F> fmt::Debug for InPlaceInterceptor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InPlaceInterceptor")
    }
}

impl<S, C, F> Interceptor<S, C> for InPlaceInterceptor<F>
where
    F: Fn(&mut S, &C) -> Result<()> + Send + Sync + 'static,
{
    fn intercept(&self, ctx: PipelineContext<S, C>) -> Step {
        self.intercept_ref(&ctx)
    }

    fn intercept_ref(&self, ctx: &PipelineContext<S, C>) -> Step {
        Step::ready((self.f)(&mut ctx.subject(), ctx.context()))
    }

    fn works_in_place(&self) -> bool {
        true
    }

    fn intercept_in_place(&self, subject: &mut S, context: &C) -> Step {
        Step::ready((self.f)(subject, context))
    }
}

/// Wraps a closure that never waits into an [`Interceptor`] that costs no allocation per call.
///
/// ```
/// use rotor::pipeline::{sync, Pipeline, PipelineContext, PipelinePhase};
///
/// const MAIN: PipelinePhase = PipelinePhase::new("Main");
/// let mut pipeline = Pipeline::<Vec<&str>, ()>::new([MAIN]);
/// let seen = sync(|ctx: &PipelineContext<Vec<&str>, ()>| {
///     ctx.subject().push("seen");
///     Ok(())
/// });
/// pipeline.add_interceptor(&MAIN, seen).unwrap();
/// // Or, with the types inferred:
/// pipeline.intercept_sync(&MAIN, |ctx| {
///     ctx.subject().push("again");
///     Ok(())
/// });
/// ```
pub fn sync<S, C, F>(f: F) -> SyncInterceptor<F>
where
    F: Fn(&PipelineContext<S, C>) -> Result<()> + Send + Sync + 'static,
{
    SyncInterceptor { f }
}

/// An interceptor made of a closure that never waits; made by [`sync`].
pub struct SyncInterceptor<F> {
    f: F,
}

impl<F> fmt::Debug for SyncInterceptor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncInterceptor")
    }
}

impl<S, C, F> Interceptor<S, C> for SyncInterceptor<F>
where
    F: Fn(&PipelineContext<S, C>) -> Result<()> + Send + Sync + 'static,
{
    fn intercept(&self, ctx: PipelineContext<S, C>) -> Step {
        self.intercept_ref(&ctx)
    }

    fn intercept_ref(&self, ctx: &PipelineContext<S, C>) -> Step {
        Step::ready((self.f)(ctx))
    }
}
