//! `StepSlot`: where an interceptor's waiting step keeps its future, in an allocation the pipeline reuses.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::proceed_slots::ProceedSlots;
use crate::Result;

/// A place for the future of one interceptor's step, given to
/// [`Interceptor::intercept_held`](super::Interceptor::intercept_held) (for an interceptor whose
/// [`holds_steps`](super::Interceptor::holds_steps) is true). [`hold`](Self::hold) keeps the future in
/// it and polls it once; a future that waits then stays in the slot, where the pipeline polls it again. The slot
/// is emptied when the future is done, keeping the allocation.
///
/// An execution keeps a slot per interceptor index, and each thread keeps them with the execution's state (two
/// states per pipeline type, the last kept taken first, so that a pipeline run inside a step of another of the
/// same type keeps its own); so an interceptor whose closure returns a future of one type every time (any
/// `|ctx| async move { … }`) allocates it once per thread rather than once per call. A future of another type
/// than the slot held last is allocated anew, as a [`Step::boxed`](super::Step::boxed) one always is. The steps a
/// [`proceed`](super::PipelineContext::proceed) runs have slots of that call's own, one per interceptor, which
/// the thread keeps when the call ends for the next `proceed` from the same place (the same interceptor list and
/// index: the next request's), eight sets of slots in all. Allocated anew, each call, are the slots of an execution
/// whose state is not kept (an interceptor kept a clone of its context, or the execution was dropped before its
/// end).
///
/// Interceptors made with [`Pipeline::intercept`](super::Pipeline::intercept) use their slot; an
/// [`Interceptor`](super::Interceptor) of your own can too:
///
/// ```
/// use rotor::pipeline::{Interceptor, Pipeline, PipelineContext, PipelinePhase, Step, StepSlot};
/// use std::task::{Context, Poll};
///
/// struct Bump;
///
/// impl Interceptor<u32, ()> for Bump {
///     fn intercept(&self, ctx: PipelineContext<u32, ()>) -> Step {
///         Step::boxed(bump(ctx))
///     }
///
///     fn holds_steps(&self) -> bool {
///         true
///     }
///
///     fn intercept_held(
///         &self,
///         ctx: &PipelineContext<u32, ()>,
///         slot: &mut StepSlot,
///         cx: &mut Context<'_>,
///     ) -> Poll<rotor::Result<()>> {
///         slot.hold(bump(ctx.clone()), cx)
///     }
/// }
///
/// async fn bump(ctx: PipelineContext<u32, ()>) -> rotor::Result<()> {
///     tokio::task::yield_now().await;
///     *ctx.subject() += 1;
///     Ok(())
/// }
///
/// const MAIN: PipelinePhase = PipelinePhase::new("Main");
/// let mut pipeline = Pipeline::<u32, ()>::new([MAIN]);
/// pipeline.add_interceptor(&MAIN, Bump).unwrap();
/// pipeline.add_interceptor(&MAIN, Bump).unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(pipeline.execute((), 0).await.unwrap(), 2);
/// assert_eq!(pipeline.execute((), 40).await.unwrap(), 42);
/// # });
/// ```
pub struct StepSlot {
    held: Option<Box<dyn Held>>,
    /// True while the slot holds a future that has not finished: [`clear`](Self::clear) has nothing to do
    /// otherwise (no call through the vtable).
    waiting: bool,
}

impl StepSlot {
    /// A slot that has held nothing yet (only a pipeline makes slots).
    pub(crate) const fn empty() -> Self {
        StepSlot { held: None, waiting: false }
    }

    /// Where the slot's allocation is (0 for none), for tests that check it is reused.
    #[cfg(test)]
    pub(crate) fn address(&self) -> usize {
        self.held.as_ref().map_or(0, |held| &**held as *const dyn Held as *const () as usize)
    }

    /// Keeps `future` in this slot, in the allocation of the future the slot held last if that was of the same
    /// type, and polls it once with `cx`. `Poll::Ready` if it finished then (the slot is empty again, its
    /// allocation kept); `Poll::Pending` if it waits in the slot, where the pipeline polls it again. Return what
    /// it returns from [`intercept_held`](super::Interceptor::intercept_held), the call that was given this slot
    /// and `cx`.
    ///
    /// Polling here rather than when the pipeline gets the answer back saves a call through the slot's vtable,
    /// and lets the compiler see the future's type where it is polled: most interceptors' futures finish at their
    /// first poll.
    pub fn hold<F: Future<Output = Result<()>> + Send + 'static>(
        &mut self,
        future: F,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        // The slot's future, if it is of this type: a check of its type (a call that returns a constant), no other
        // call through the vtable.
        let same = self.held.as_deref_mut().and_then(|held| (held as &mut dyn Any).downcast_mut::<Pinned<F>>());
        // Waiting until the poll says otherwise: a future that panics in it stays here, and `clear` must drop it
        // (whoever catches the panic: the pipeline, or an interceptor around its own `hold`).
        let polled = match same {
            Some(pinned) => {
                // Drops what the slot held (nothing, once a step is done) in place, then moves the new one in.
                pinned.set(Some(future));
                self.waiting = true;
                poll_pinned(pinned.as_mut(), cx)
            }
            // The first future of this slot, or one of another type than the last: a new allocation.
            None => {
                let held = self.held.insert(Box::new(Box::pin(Some(future))));
                self.waiting = true;
                held.poll_held(cx)
            }
        };
        if polled.is_ready() {
            self.waiting = false;
        }
        polled
    }

    /// Polls the future held here; empties the slot (dropping the future, keeping its allocation) once it is
    /// done.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let polled = match &mut self.held {
            Some(held) if self.waiting => held.poll_held(cx),
            _ => Poll::Ready(Err(crate::Error::internal(
                "a held pipeline step's slot is empty: an interceptor answered Poll::Pending from intercept_held \
                 without a future waiting from StepSlot::hold",
            ))),
        };
        self.waiting = polled.is_pending();
        polled
    }

    /// Drops the future waiting here, if any (an interceptor answered without it, or a poll of it panicked),
    /// keeping the allocation.
    #[inline]
    pub(crate) fn clear(&mut self) {
        if self.waiting {
            self.clear_waiting();
        }
    }

    #[cold]
    fn clear_waiting(&mut self) {
        self.waiting = false;
        if let Some(held) = &mut self.held {
            held.clear();
        }
    }
}

impl fmt::Debug for StepSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepSlot").field("allocated", &self.held.is_some()).field("waiting", &self.waiting).finish()
    }
}

/// A slot's future of type `F`: pinned in a box of its own, refilled and emptied in place. The slot boxes this
/// box again, as a [`Held`]: the outer box can be looked at as `dyn Any` and downcast to this type (a pinned
/// value cannot), so that [`StepSlot::hold`] refills and polls it with its type known.
type Pinned<F> = Pin<Box<Option<F>>>;

/// A slot's future behind its type, for the pipeline's later polls.
trait Held: Any + Send {
    /// Polls the future; empties the slot once it is done.
    fn poll_held(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>>;
    /// Empties the slot.
    fn clear(&mut self);
}

impl<F: Future<Output = Result<()>> + Send + 'static> Held for Pinned<F> {
    fn poll_held(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        poll_pinned(self.as_mut(), cx)
    }

    fn clear(&mut self) {
        self.set(None);
    }
}

/// Polls a slot's future; empties it once it is done.
#[inline]
fn poll_pinned<F: Future<Output = Result<()>>>(
    mut pinned: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    let result = match pinned.as_mut().as_pin_mut() {
        Some(future) => ready!(future.poll(cx)),
        None => Err(crate::Error::internal("a held pipeline step was polled after it finished")),
    };
    // Dropped now, not when the slot is next filled: what the future captured (the context) goes with it.
    pinned.set(None);
    Poll::Ready(result)
}

/// The slots of one run of interceptors, borrowed for a poll: one per interceptor for an execution's own loop
/// (kept with its state between executions), or those of a `proceed` call (one per interceptor it runs, kept by
/// the thread between calls, see [`ProceedSlots`]); a `proceed`'s interceptors' own slots are borrowed by the
/// step that is running it.
pub(crate) enum Slots<'a> {
    /// Slot `i` for interceptor `i`.
    PerInterceptor(&'a mut Box<[StepSlot]>),
    /// The slots of a `proceed` call.
    Proceed(&'a mut ProceedSlots),
}

impl Slots<'_> {
    /// The slot for the interceptor at `index` of a list of `len` (the length sizes the slots when they are made;
    /// callers that reach a slot they know exists pass 0).
    #[inline]
    pub(crate) fn at(&mut self, index: usize, len: usize) -> &mut StepSlot {
        match self {
            // (Tested before the index, so that the compiler drops the index's own bounds check.)
            Slots::PerInterceptor(slots) => {
                if index < slots.len() {
                    &mut slots[index]
                } else {
                    grow(slots, index, len)
                }
            }
            Slots::Proceed(proceed) => proceed.at(index, len),
        }
    }
}

/// Makes room for the slots of a list of `len` (at least up to `index`, and never fewer than there are), in one
/// allocation of that size (once per kept state and pipeline: out of the way of the common path), and returns
/// slot `index`.
#[cold]
#[inline(never)]
pub(super) fn grow(slots: &mut Box<[StepSlot]>, index: usize, len: usize) -> &mut StepSlot {
    let count = len.max(index + 1).max(slots.len());
    let mut grown = Vec::with_capacity(count);
    grown.extend(std::mem::take(slots).into_vec());
    grown.resize_with(count, StepSlot::empty);
    *slots = grown.into_boxed_slice();
    &mut slots[index]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn noop_cx() -> Context<'static> {
        Context::from_waker(std::task::Waker::noop())
    }

    fn poll_ready(slot: &mut StepSlot) -> Result<()> {
        match slot.poll(&mut noop_cx()) {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("a ready future"),
        }
    }

    /// A future that owns `drops` and counts its drop; with `waits`, it is pending at its first poll.
    fn counted(drops: &Arc<AtomicUsize>, fail: bool, waits: bool) -> impl Future<Output = Result<()>> + Send + 'static {
        struct Guard(Arc<AtomicUsize>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let guard = Guard(Arc::clone(drops));
        async move {
            let _guard = guard;
            if waits {
                let mut polled = false;
                std::future::poll_fn(|_| {
                    if std::mem::replace(&mut polled, true) { Poll::Ready(()) } else { Poll::Pending }
                })
                .await;
            }
            if fail { Err(crate::Error::bad_request("failed")) } else { Ok(()) }
        }
    }

    #[test]
    fn a_future_of_the_same_type_reuses_the_allocation_and_is_dropped_when_done() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = StepSlot::empty();
        assert!(matches!(slot.hold(counted(&drops, false, true), &mut noop_cx()), Poll::Pending));
        let first = slot.address();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "waiting in the slot");
        assert!(poll_ready(&mut slot).is_ok());
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped as soon as it is done");
        assert!(matches!(slot.hold(counted(&drops, true, true), &mut noop_cx()), Poll::Pending));
        assert_eq!(slot.address(), first, "the same allocation");
        assert!(poll_ready(&mut slot).unwrap_err().is_bad_request());
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert!(poll_ready(&mut slot).is_err(), "an emptied slot answers with an error, not a panic");
    }

    #[test]
    fn a_future_done_at_its_first_poll_is_ready_and_leaves_the_slot_empty() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = StepSlot::empty();
        let step = slot.hold(counted(&drops, false, false), &mut noop_cx());
        assert!(matches!(step, Poll::Ready(Ok(()))), "{step:?}");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped at once");
        let first = slot.address();
        assert_ne!(first, 0, "the allocation is kept");
        let step = slot.hold(counted(&drops, true, false), &mut noop_cx());
        assert!(matches!(step, Poll::Ready(Err(ref error)) if error.is_bad_request()), "{step:?}");
        assert_eq!(slot.address(), first, "and reused");
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert!(poll_ready(&mut slot).is_err(), "nothing waits in the slot");
    }

    #[test]
    fn a_future_of_another_type_gets_an_allocation_of_its_own() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = StepSlot::empty();
        assert!(matches!(slot.hold(counted(&drops, false, true), &mut noop_cx()), Poll::Pending));
        let counted_at = slot.address();
        assert!(poll_ready(&mut slot).is_ok());
        assert!(matches!(slot.hold(std::future::pending(), &mut noop_cx()), Poll::Pending));
        assert_ne!(slot.address(), counted_at, "a new allocation for the other type");
        slot.clear();
        // A future held and not finished is dropped when the slot is cleared, or with the slot.
        assert!(matches!(slot.hold(counted(&drops, false, true), &mut noop_cx()), Poll::Pending));
        slot.clear();
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert!(poll_ready(&mut slot).is_err(), "a cleared slot holds nothing");
        assert!(matches!(slot.hold(counted(&drops, false, true), &mut noop_cx()), Poll::Pending));
        drop(slot);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }
}
