//! `PipelineContext`: what an interceptor sees of one execution of a pipeline.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use std::future::{Future, poll_fn};
use std::mem::replace;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use super::proceed_slots::ProceedSlots;
use super::{BoxFuture, Interceptor, Slots, Step, StepSlot, spare};
use crate::Result;

/// The pre-built, shared list of interceptors that one execution walks.
pub(crate) type Interceptors<S, C> = Arc<[Entry<S, C>]>;

/// One interceptor of the pre-built list, with whether it works on the subject in place (read once, here).
pub(crate) struct Entry<S, C> {
    pub(crate) interceptor: Arc<dyn Interceptor<S, C>>,
    pub(crate) in_place: bool,
    /// Whether its steps wait in the slot the execution gives it (read once, here).
    pub(crate) held: bool,
}

impl<S: 'static, C: 'static> Entry<S, C> {
    pub(crate) fn new(interceptor: Arc<dyn Interceptor<S, C>>) -> Self {
        let in_place = interceptor.works_in_place();
        let held = interceptor.holds_steps();
        Entry { interceptor, in_place, held }
    }
}

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

/// The state one execution's interceptors share. Each thread reuses the state of a last finished execution of
/// the same types when nothing else refers to it (see `spare`), else allocates one; walking the interceptors
/// takes no further allocation and no atomic read-modify-write for a step that does not wait.
pub(crate) struct Execution<S, C> {
    /// `None` only while the state is spare, between executions.
    context: Option<C>,
    subject: Mutex<Option<S>>,
    /// `None` only while the state is spare: a spare state keeps nothing of its pipeline alive.
    interceptors: Option<Interceptors<S, C>>,
    /// The index of the next interceptor to start. Only the flow that is running the interceptors moves it
    /// (the loop, or a `proceed` inside one of them, one at a time), so a plain load and store suffice.
    next: AtomicUsize,
    /// Set by [`PipelineContext::finish`], from any clone of the context: a separate flag, so that a `finish`
    /// from another task is never overwritten by the loop's store of `next`.
    finished: AtomicBool,
    /// The step slots of the last execution that ran over this state, emptied, while the state is spare (the
    /// running execution's future owns them); reached only through `get_mut`, when the state is unique.
    slots: Mutex<Box<[StepSlot]>>,
}

/// The step an execution's loop awaits.
pub(crate) enum Pending {
    /// A boxed future.
    Boxed(BoxFuture<Result<()>>),
    /// The future held in the slot of the interceptor at this index.
    Held(usize),
}

impl<S, C> Execution<S, C> {
    /// The interceptors this execution walks (none for a spare state, which no context refers to).
    fn interceptors(&self) -> &[Entry<S, C>] {
        self.interceptors.as_deref().unwrap_or_default()
    }

    /// Where the kept slots' allocations are (0 for a slot never used), for tests that check they are reused.
    #[cfg(test)]
    pub(crate) fn slot_addresses(&mut self) -> Vec<usize> {
        self.slots.get_mut().unwrap_or_else(PoisonError::into_inner).iter().map(StepSlot::address).collect()
    }
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
            .field("interceptors", &self.execution.interceptors().len())
            .finish_non_exhaustive()
    }
}

impl<S, C> PipelineContext<S, C>
where
    S: Send + 'static,
    C: Send + Sync + 'static,
{
    /// Starts an execution of `interceptors` with `subject` at the interceptor `next` (the ones before it ran
    /// already, without a shared state): the state every interceptor from there on will share.
    pub(crate) fn start(
        interceptors: Interceptors<S, C>,
        context: C,
        subject: S,
        next: usize,
    ) -> (Self, Box<[StepSlot]>) {
        if let Some(mut execution) = spare::take::<Execution<S, C>>() {
            // Kept only when nothing else referred to it, so this finds it unique.
            if let Some(state) = Arc::get_mut(&mut execution) {
                state.interceptors = Some(interceptors);
                state.context = Some(context);
                // A panic in an interceptor that used `subject()`, or in one that worked in place (the lock held
                // while it ran), may have poisoned the lock; it is fresh here.
                state.subject.clear_poison();
                *state.subject.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(subject);
                *state.next.get_mut() = next;
                *state.finished.get_mut() = false;
                let slots = std::mem::take(state.slots.get_mut().unwrap_or_else(PoisonError::into_inner));
                return (PipelineContext { execution }, slots);
            }
        }
        let execution = Arc::new(Execution {
            context: Some(context),
            subject: Mutex::new(Some(subject)),
            interceptors: Some(interceptors),
            next: AtomicUsize::new(next),
            finished: AtomicBool::new(false),
            slots: Mutex::new(Box::default()),
        });
        (PipelineContext { execution }, Box::default())
    }

    /// The subject at the end of the execution, what keeps its context, and the interceptor list to drop (after
    /// the caller has stored the context); the state is kept for the thread's next execution of this type when
    /// nothing else refers to it, with the execution's emptied step `slots`.
    fn into_parts(mut self, slots: Box<[StepSlot]>) -> Parts<S, C> {
        let (subject, leftover, interceptors) = match Arc::get_mut(&mut self.execution) {
            Some(state) => {
                // `start` took the state's slots, so it holds an empty slice: swap the execution's in (every step
                // has finished, so they hold nothing), and let go of the empty one without the call to its drop
                // glue, about 20 instructions per execution (bench/instructions/measure.sh): an empty boxed slice
                // owns no allocation.
                let mut slots = slots;
                std::mem::swap(state.slots.get_mut().unwrap_or_else(PoisonError::into_inner), &mut slots);
                if slots.is_empty() {
                    #[expect(clippy::mem_forget, reason = "an empty boxed slice owns nothing to leak")]
                    std::mem::forget(slots);
                }
                let subject = state.subject.get_mut().unwrap_or_else(PoisonError::into_inner).take();
                // The context goes to the execution's future and the interceptor list (with whatever its
                // interceptors hold) to the caller: a spare state keeps nothing alive.
                let context = state.context.take();
                let interceptors = state.interceptors.take();
                spare::put(self.execution);
                (subject, context.map_or(Leftover::Taken, Leftover::Context), interceptors)
            }
            // An interceptor kept a clone of its context: take the subject out of the shared state.
            None => {
                let subject = self.execution.subject.lock().unwrap_or_else(PoisonError::into_inner).take();
                (subject, Leftover::Shared(self), None)
            }
        };
        let subject =
            subject.ok_or_else(|| crate::Error::internal("the pipeline's subject was taken by an interceptor"));
        (subject, leftover, interceptors)
    }

    /// The flat loop, polled: finish the step being awaited (`pending`), then start interceptors one after
    /// another until none is left, the execution finished, or a step has to wait (kept in `pending`). A
    /// `proceed` call runs this same loop from inside an interceptor.
    ///
    /// It is a poll function rather than an `async fn` so that the futures that run it
    /// ([`PipelineExecution`], `proceed`) stay a few words in size: they are created, moved and stored per call.
    fn poll_run(&self, pending: &mut Option<Pending>, mut slots: Slots<'_>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        loop {
            if let Some(step) = pending {
                // A panic while the step is polled becomes an error at this step, like one in `intercept`.
                let polled = catch_unwind(AssertUnwindSafe(|| match step {
                    Pending::Boxed(future) => future.as_mut().poll(cx),
                    Pending::Held(index) => slots.at(*index, 0).poll(cx),
                }));
                let result = match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => result,
                    Err(payload) => {
                        if let Pending::Held(index) = step {
                            slots.at(*index, 0).clear();
                        }
                        Err(crate::Error::from_panic(payload.as_ref()))
                    }
                };
                *pending = None;
                result?;
            }
            match self.run_ready(&mut slots, cx) {
                Ok(Some(step)) => *pending = Some(step),
                Ok(None) => return Poll::Ready(Ok(())),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }

    /// Starts interceptors, without any future, while their steps are ready at once (sync interceptors, and held
    /// steps done at their first poll); returns the first step that has to wait, or `None` once no interceptor is
    /// left to start.
    ///
    /// A ready step costs a call through the interceptor's vtable with the context borrowed: no allocation, no
    /// atomic read-modify-write, no future. A held step is polled here at once, in its slot: most async
    /// interceptors finish at their first poll, and then cost no trip through `pending` and the outer loop.
    fn run_ready(&self, slots: &mut Slots<'_>, cx: &mut Context<'_>) -> Result<Option<Pending>> {
        // A panic in an interceptor (or in a held step's first poll) becomes an error here, so earlier interceptors
        // see it come out of their `proceed` like any other error, and the process goes on. One `catch_unwind`
        // for the whole run rather than one per step: it costs nothing unless something panics, but each one
        // costs a few instructions on the way in and out (about 2 per sync no-op step,
        // `bench/examples/pipeline_loop.rs`).
        let mut running = 0;
        match catch_unwind(AssertUnwindSafe(|| self.start_steps(slots, cx, &mut running))) {
            Ok(result) => result,
            Err(payload) => {
                if self.execution.interceptors().get(running).is_some_and(|entry| entry.held && !entry.in_place) {
                    // A future the panicking interceptor left in its slot must not outlive this call (in a kept
                    // state) or be awaited by a later one.
                    slots.at(running, 0).clear();
                }
                Err(crate::Error::from_panic(payload.as_ref()))
            }
        }
    }

    /// [`run_ready`](Self::run_ready)'s loop, with the index of the interceptor it is running in `running`.
    #[inline(always)]
    fn start_steps(&self, slots: &mut Slots<'_>, cx: &mut Context<'_>, running: &mut usize) -> Result<Option<Pending>> {
        let execution = &*self.execution;
        let interceptors = execution.interceptors();
        // The subject, locked once for a run of interceptors that work on it in place; released before any other
        // interceptor runs (it may lock the subject itself, or wait). A panic while it is locked poisons the lock,
        // which every user of the subject looks past.
        let mut held: Option<MutexGuard<'_, Option<S>>> = None;
        loop {
            // Read again at every step: an interceptor may have run the rest itself (`proceed`).
            let index = execution.next.load(Ordering::Acquire);
            let Some(entry) = interceptors.get(index) else { return Ok(None) };
            if execution.finished.load(Ordering::Acquire) {
                execution.next.store(interceptors.len(), Ordering::Release);
                return Ok(None);
            }
            execution.next.store(index + 1, Ordering::Release);
            *running = index;
            if entry.in_place {
                let guard =
                    held.get_or_insert_with(|| execution.subject.lock().unwrap_or_else(PoisonError::into_inner));
                let Some(subject) = guard.as_mut() else {
                    return Err(crate::Error::internal("the pipeline's subject was taken by an interceptor"));
                };
                match entry.interceptor.intercept_in_place(subject, self.context()) {
                    Step::Ready(Some(Err(error))) => return Err(error),
                    Step::Ready(_) => continue,
                    // Waiting happens without the lock: the step's future may look at the subject itself.
                    Step::Pending(future) => return Ok(Some(Pending::Boxed(future))),
                }
            }
            held = None;
            if entry.held {
                let slot = slots.at(index, interceptors.len());
                match entry.interceptor.intercept_held(self, slot, cx) {
                    // Waiting in the slot after its first poll, in `StepSlot::hold`.
                    Poll::Pending => return Ok(Some(Pending::Held(index))),
                    // Finished at that first poll (the slot is empty again), or an interceptor that answered
                    // without its held future: one it left waiting in the slot must not outlive this call (in a kept
                    // state) or be awaited by a later one.
                    Poll::Ready(result) => {
                        slot.clear();
                        result?;
                    }
                }
                continue;
            }
            match entry.interceptor.intercept_ref(self) {
                Step::Ready(Some(Err(error))) => return Err(error),
                Step::Ready(_) => {}
                Step::Pending(future) => return Ok(Some(Pending::Boxed(future))),
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
        let mut pending = None;
        let execution = &*self.execution;
        let list = execution.interceptors.as_ref().map_or(0, |list| Arc::as_ptr(list) as *const () as usize);
        let mut slots = ProceedSlots::new(list, execution.next.load(Ordering::Acquire));
        let result = poll_fn(|cx| self.poll_run(&mut pending, Slots::Proceed(&mut slots), cx)).await;
        slots.end();
        result
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
            || execution.next.load(Ordering::Acquire) >= execution.interceptors().len()
    }
}

impl<S, C> PipelineContext<S, C> {
    /// Where this execution's shared state lives (tests check that states are reused).
    #[cfg(test)]
    pub(crate) fn state_address(&self) -> usize {
        Arc::as_ptr(&self.execution) as *const () as usize
    }

    /// The context of this execution (for application pipelines, the `ApplicationCall`).
    pub fn context(&self) -> &C {
        match &self.execution.context {
            Some(context) => context,
            // A state is spare only when no context refers to it.
            None => unreachable!("a pipeline context refers to a spare execution state"),
        }
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

/// The future of one execution of a pipeline, returned by [`Pipeline::execute`](super::Pipeline::execute):
/// it resolves to the subject as the last interceptor left it.
///
/// It is a named type of a few words, not an `async` block, so that an engine can hold it without boxing
/// it and a caller's own future stays small. Nothing runs until it is polled; dropping it before it finishes
/// drops the step being awaited and starts no further interceptor.
#[must_use = "futures do nothing unless polled"]
pub struct PipelineExecution<S, C> {
    state: ExecutionState<S, C>,
}

enum ExecutionState<S, C> {
    /// No interceptor to run: the subject, returned as it is.
    Empty { subject: S, context: C },
    /// Interceptors that work in place, run without a shared state while they last.
    Direct(Direct<S, C>),
    /// Interceptors run over a shared state (since the first one that needed a [`PipelineContext`]), the step
    /// being awaited, and the execution's step slots (given back to the state at the end).
    Running { ctx: PipelineContext<S, C>, pending: Option<Pending>, slots: Box<[StepSlot]> },
    /// Returned its output; keeps the context until the future is dropped (see [`PipelineExecution::context`]).
    Done(Leftover<S, C>),
}

/// What [`PipelineContext::into_parts`] returns: the subject, what keeps the context, and the interceptor list
/// to drop.
type Parts<S, C> = (Result<S>, Leftover<S, C>, Option<Interceptors<S, C>>);

/// The context of a finished execution.
enum Leftover<S, C> {
    /// The context itself.
    Context(C),
    /// The shared state, which an interceptor's kept clone of the context still refers to.
    Shared(PipelineContext<S, C>),
    /// None: only while `poll` changes the state (seen afterwards only if a drop panicked in between).
    Taken,
}

/// An execution while its interceptors work in place (see [`Interceptor::works_in_place`]): the subject and the
/// context live here, in the future, so running them takes no allocation, no lock and no reference count.
struct Direct<S, C> {
    interceptors: List<S, C>,
    /// The index of the next interceptor to start.
    next: usize,
    context: C,
    subject: S,
    /// The step of the last interceptor, while it waits.
    pending: Option<BoxFuture<Result<()>>>,
}

/// Where an execution finds its interceptor list.
pub(crate) enum List<S, C> {
    /// A handle of its own (a reference count per execution).
    Owned(Interceptors<S, C>),
    /// Read through the context, which owns what holds the list (an `ApplicationCall` owns its application,
    /// whose pipelines never change once it serves calls): no reference count.
    InContext(fn(&C) -> &Interceptors<S, C>),
}

impl<S, C> List<S, C> {
    /// A handle of the list's own, for a shared state.
    fn into_owned(self, context: &C) -> Interceptors<S, C> {
        match self {
            List::Owned(interceptors) => interceptors,
            List::InContext(get) => Arc::clone(get(context)),
        }
    }

    fn get<'a>(&'a self, context: &'a C) -> &'a Interceptors<S, C> {
        match self {
            List::Owned(interceptors) => interceptors,
            List::InContext(get) => get(context),
        }
    }
}

/// Where a [`Direct`] run stopped.
enum DirectOutcome {
    /// Every interceptor ran.
    Finished,
    /// The next interceptor needs a [`PipelineContext`]: the run goes on over a shared state.
    NeedsContext,
}

impl<S: 'static, C: 'static> Direct<S, C> {
    /// Finishes the step being awaited, then starts in-place interceptors until none is left, one needs a
    /// context, or a step has to wait. Panics become errors at the interceptor, as in the shared loop.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Result<DirectOutcome>> {
        let Direct { interceptors, next, context, subject, pending } = self;
        // Looked up once per poll (through the context it may take a few pointer reads).
        let interceptors = interceptors.get(context);
        loop {
            // As in the shared loop (`PipelineContext::poll_run`); a helper shared by both cost about 200
            // instructions per request (measured with bench/instructions/measure.sh), so these lines are repeated.
            if let Some(step) = pending {
                let polled = catch_unwind(AssertUnwindSafe(|| step.as_mut().poll(cx)));
                let result = match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => result,
                    Err(payload) => Err(crate::Error::from_panic(payload.as_ref())),
                };
                *pending = None;
                if let Err(error) = result {
                    return Poll::Ready(Err(error));
                }
            }
            let Some(entry) = interceptors.get(*next) else { return Poll::Ready(Ok(DirectOutcome::Finished)) };
            if !entry.in_place {
                return Poll::Ready(Ok(DirectOutcome::NeedsContext));
            }
            *next += 1;
            let step = catch_unwind(AssertUnwindSafe(|| entry.interceptor.intercept_in_place(subject, context)));
            match step {
                Ok(Step::Ready(Some(Err(error)))) => return Poll::Ready(Err(error)),
                Ok(Step::Ready(_)) => {}
                Ok(Step::Pending(future)) => *pending = Some(future),
                Err(payload) => return Poll::Ready(Err(crate::Error::from_panic(payload.as_ref()))),
            }
        }
    }
}

// The subject and the context are never pinned: they are moved in and out, never polled in place.
impl<S, C> Unpin for PipelineExecution<S, C> {}

impl<S, C> PipelineExecution<S, C> {
    /// An execution with nothing to run: it resolves to `subject` at once.
    pub(crate) fn empty(context: C, subject: S) -> Self {
        PipelineExecution { state: ExecutionState::Empty { subject, context } }
    }

    /// The context of this execution, while it runs and after it finished (the future keeps it until it is
    /// dropped); `None` only if a drop panicked while `poll` was changing the state.
    pub(crate) fn context(&self) -> Option<&C> {
        match &self.state {
            ExecutionState::Empty { context, .. }
            | ExecutionState::Direct(Direct { context, .. })
            | ExecutionState::Done(Leftover::Context(context)) => Some(context),
            ExecutionState::Running { ctx, .. } | ExecutionState::Done(Leftover::Shared(ctx)) => Some(ctx.context()),
            ExecutionState::Done(Leftover::Taken) => None,
        }
    }

    /// The context, taken out of this execution (cloned if an interceptor kept a handle to it).
    pub(crate) fn into_context(self) -> Option<C>
    where
        C: Clone,
    {
        match self.state {
            ExecutionState::Empty { context, .. }
            | ExecutionState::Direct(Direct { context, .. })
            | ExecutionState::Done(Leftover::Context(context)) => Some(context),
            ExecutionState::Running { ctx, .. } | ExecutionState::Done(Leftover::Shared(ctx)) => {
                Some(ctx.context().clone())
            }
            ExecutionState::Done(Leftover::Taken) => None,
        }
    }
}

impl<S, C> PipelineExecution<S, C>
where
    S: Send + 'static,
    C: Send + Sync + 'static,
{
    /// An execution of `interceptors`: without a shared state while they work in place.
    pub(crate) fn start(interceptors: List<S, C>, context: C, subject: S) -> Self {
        let first = interceptors.get(&context).first();
        let state = match first {
            None => ExecutionState::Empty { subject, context },
            Some(entry) if entry.in_place => {
                ExecutionState::Direct(Direct { interceptors, next: 0, context, subject, pending: None })
            }
            Some(_) => {
                let interceptors = interceptors.into_owned(&context);
                let (ctx, slots) = PipelineContext::start(interceptors, context, subject, 0);
                ExecutionState::Running { ctx, pending: None, slots }
            }
        };
        PipelineExecution { state }
    }
}

impl<S, C> fmt::Debug for PipelineExecution<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            ExecutionState::Empty { .. } => "empty",
            ExecutionState::Direct(Direct { pending: None, .. }) | ExecutionState::Running { pending: None, .. } => {
                "running"
            }
            ExecutionState::Direct(_) | ExecutionState::Running { pending: Some(_), .. } => "waiting",
            ExecutionState::Done(_) => "done",
        };
        f.debug_struct("PipelineExecution").field("state", &state).finish()
    }
}

impl<S, C> Future for PipelineExecution<S, C>
where
    S: Send + 'static,
    C: Send + Sync + 'static,
{
    type Output = Result<S>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<S>> {
        let this = self.get_mut();
        loop {
            let outcome = match &mut this.state {
                ExecutionState::Empty { .. } => Ok(DirectOutcome::Finished),
                ExecutionState::Direct(direct) => ready!(direct.poll_run(cx)),
                ExecutionState::Running { ctx, pending, slots } => {
                    let outcome = ready!(ctx.poll_run(pending, Slots::PerInterceptor(slots), cx));
                    let ExecutionState::Running { ctx, pending, slots } =
                        replace(&mut this.state, ExecutionState::Done(Leftover::Taken))
                    else {
                        unreachable!("matched just above")
                    };
                    // The loop has no step left to await: the slots are empty, and go back with the state when it
                    // is kept.
                    drop(pending);
                    // After an error too: the subject goes, and the state is kept for reuse when it can be.
                    let (subject, leftover, interceptors) = ctx.into_parts(slots);
                    this.state = ExecutionState::Done(leftover);
                    // Dropped once the context is stored, so that even a panicking drop cannot lose it.
                    drop(interceptors);
                    return Poll::Ready(outcome.and(subject));
                }
                ExecutionState::Done(_) => {
                    return Poll::Ready(Err(crate::Error::internal(
                        "a pipeline execution was polled after it finished",
                    )));
                }
            };
            // Empty or direct: the subject and the context are here.
            let (subject, context, promote) = match replace(&mut this.state, ExecutionState::Done(Leftover::Taken)) {
                ExecutionState::Empty { subject, context } => (subject, context, None),
                ExecutionState::Direct(Direct { interceptors, next, context, subject, .. }) => {
                    (subject, context, Some((interceptors, next)))
                }
                _ => unreachable!("matched just above"),
            };
            match outcome {
                Ok(DirectOutcome::NeedsContext) => {
                    let Some((interceptors, next)) = promote else { unreachable!("only a direct run needs a context") };
                    let interceptors = interceptors.into_owned(&context);
                    let (ctx, slots) = PipelineContext::start(interceptors, context, subject, next);
                    this.state = ExecutionState::Running { ctx, pending: None, slots };
                }
                outcome => {
                    this.state = ExecutionState::Done(Leftover::Context(context));
                    drop(promote);
                    return Poll::Ready(outcome.map(|_| subject));
                }
            }
        }
    }
}
