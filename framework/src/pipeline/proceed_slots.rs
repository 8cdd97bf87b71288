//! `ProceedSlots`: the step slots of one `proceed` call, kept by the thread from one call to the next.
//!
//! The steps a [`proceed`](super::PipelineContext::proceed) runs cannot use their execution's own slots (those
//! are borrowed by the step that is running the `proceed`), so each call has slots of its own, one per
//! interceptor it runs. When the call ends, its slots (emptied: no future outlives its step) go to the thread's
//! spare ones, under the interceptor list and the index the call started at; a later call from the same place
//! (the next request's) takes them back, and its steps' futures, of the same types, reuse their allocations. A
//! call whose steps never wait in a slot never looks at the thread's spares.

use std::cell::RefCell;
use std::mem::ManuallyDrop;

use super::StepSlot;
use super::step_slot::grow;

/// Slot sets a thread keeps in all: one per `proceed` call site of a request, in practice a handful (the
/// plugins whose interceptors proceed: CallLogging, StatusPages, CallId, …).
const PER_THREAD: usize = 8;

/// Where a set of slots was used: the interceptor list's address and the index the `proceed` started at. Only a
/// hint (an address may be reused by another list): a slot given a future of another type than it held makes a
/// new allocation, as it always may.
type Site = (usize, usize);

thread_local! {
    static SPARE: RefCell<Vec<(Site, Box<[StepSlot]>)>> = const { RefCell::new(Vec::new()) };
}

/// The slots of one `proceed` call: slot `i` for the interceptor at `first + i`.
pub(crate) struct ProceedSlots {
    /// Never dropped in place: taken out when there are any (see `Drop`), so that a call that made none costs no
    /// drop glue.
    slots: ManuallyDrop<Box<[StepSlot]>>,
    site: Site,
    /// Set when the call's run ended: no step waits in a slot then (each one finished, or was dropped with its
    /// slot cleared), so the slots are kept without a look at each.
    ended: bool,
}

impl ProceedSlots {
    /// The slots of a `proceed` that runs the list at `list` (its address) from the interceptor at `first`; none
    /// until a step needs one.
    pub(crate) fn new(list: usize, first: usize) -> Self {
        ProceedSlots { slots: ManuallyDrop::new(Box::default()), site: (list, first), ended: false }
    }

    /// Marks the call's run as ended (see `ended`).
    pub(crate) fn end(&mut self) {
        self.ended = true;
    }

    /// The slot for the interceptor at `index` of a list of `len`.
    #[inline]
    pub(crate) fn at(&mut self, index: usize, len: usize) -> &mut StepSlot {
        let i = index.wrapping_sub(self.site.1);
        if i < self.slots.len() { &mut self.slots[i] } else { self.fill(i, len) }
    }

    /// The first slot this call needs: the thread's spare ones from this site if it keeps them, else new ones.
    #[cold]
    #[inline(never)]
    fn fill(&mut self, i: usize, len: usize) -> &mut StepSlot {
        let count = len.saturating_sub(self.site.1);
        // A `proceed` runs interceptors from where it started on, up to the list's end: an index out of that range
        // (one before the start wraps around) cannot come, and would get the first slot.
        let i = if i < count { i } else { 0 };
        if self.slots.is_empty() {
            let site = self.site;
            let kept = SPARE
                .try_with(|spare| {
                    let mut spare = spare.try_borrow_mut().ok()?;
                    let index = spare.iter().rposition(|(kept, _)| *kept == site)?;
                    // (Not `swap_remove`: the list stays oldest first, for `keep`'s eviction.)
                    Some(spare.remove(index).1)
                })
                .ok()
                .flatten();
            if let Some(kept) = kept {
                *self.slots = kept;
            }
        }
        if i < self.slots.len() {
            return &mut self.slots[i];
        }
        grow(&mut self.slots, i, count)
    }

    /// Where slot `index`'s allocation is (0 for none), for tests that check it is reused.
    #[cfg(test)]
    pub(crate) fn address(&self, index: usize) -> usize {
        self.slots.get(index.saturating_sub(self.site.1)).map_or(0, StepSlot::address)
    }
}

impl Drop for ProceedSlots {
    #[inline]
    fn drop(&mut self) {
        if !self.slots.is_empty() {
            // What is left in the field is an empty box, which owns no allocation: nothing to drop.
            keep(self.site, std::mem::take(&mut *self.slots), self.ended);
        }
    }
}

/// Keeps a call's `slots` for the next call from `site`. No future outlives its step: one still waiting (the
/// call did not reach its end: its `proceed` was dropped) goes first, before the slots are kept (its drop may run
/// code of its own, which may use the thread's spares). Slots are made only for steps that hold their future, so
/// they have allocations worth keeping. Kept last-first; the oldest goes when the thread keeps as many as it
/// will; what is not kept is dropped outside the thread's list.
#[cold]
#[inline(never)]
fn keep(site: Site, mut slots: Box<[StepSlot]>, ended: bool) {
    if !ended {
        for slot in &mut slots {
            slot.clear();
        }
    }
    let kept = (site, slots);
    let dropped = SPARE
        .try_with(|spare| {
            let Ok(mut spare) = spare.try_borrow_mut() else { return Some(kept) };
            let oldest = (spare.len() >= PER_THREAD).then(|| spare.remove(0));
            spare.push(kept);
            oldest
        })
        .unwrap_or(None);
    drop(dropped);
}

/// The thread's spare slot sets: their sites and the allocation of each slot (0 for none), taken out and put
/// back, for tests.
#[cfg(test)]
pub(crate) fn spare_sets() -> Vec<(Site, Vec<usize>)> {
    SPARE.with_borrow(|spare| {
        spare.iter().map(|(site, slots)| (*site, slots.iter().map(StepSlot::address).collect())).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Context, Waker};

    fn clear_spares() {
        SPARE.with_borrow_mut(Vec::clear);
    }

    #[test]
    fn slots_are_kept_by_site_and_taken_back_by_the_same_site_only() {
        clear_spares();
        let mut cx = Context::from_waker(Waker::noop());
        let mut slots = ProceedSlots::new(1, 3);
        assert!(matches!(slots.at(4, 6).hold(async { Ok(()) }, &mut cx), std::task::Poll::Ready(Ok(()))));
        let used = slots.address(4);
        assert_ne!(used, 0);
        drop(slots);
        assert_eq!(spare_sets(), [((1, 3), vec![0, used, 0])], "sized to the rest of the list, kept");
        let mut other = ProceedSlots::new(1, 2);
        assert_eq!(other.at(3, 6).address(), 0, "another site gets new slots");
        assert_eq!(spare_sets().len(), 1, "and leaves this one's");
        drop(ProceedSlots::new(1, 3));
        assert_eq!(spare_sets().len(), 1, "a call that needed no slot took none and leaves none");
        assert!(matches!(other.at(0, 6).hold(async { Ok(()) }, &mut cx), std::task::Poll::Ready(_)));
        assert_ne!(other.address(2), 0);
        assert_eq!(other.address(2), other.at(0, 6).address(), "an index before the call's first gets slot 0");
        drop(other);
        assert_eq!(spare_sets().len(), 2, "both sites' slots are kept");
        SPARE.with_borrow_mut(|spare| spare.retain(|(site, _)| *site == (1, 3)));
        let mut again = ProceedSlots::new(1, 3);
        assert_eq!(again.at(4, 6).address(), used, "the same site takes its slots back");
        assert!(spare_sets().is_empty());
        drop(again);
        clear_spares();
    }

    #[test]
    fn a_waiting_future_is_dropped_before_its_slots_are_kept_and_the_thread_keeps_a_bounded_number() {
        clear_spares();
        let marker = Arc::new(());
        let mut cx = Context::from_waker(Waker::noop());
        let mut slots = ProceedSlots::new(7, 0);
        let held = Arc::clone(&marker);
        let step = slots.at(0, 1).hold(
            async move {
                let _ = &held;
                std::future::pending::<()>().await;
                Ok(())
            },
            &mut cx,
        );
        assert!(matches!(step, std::task::Poll::Pending));
        assert_eq!(Arc::strong_count(&marker), 2);
        drop(slots);
        assert_eq!(Arc::strong_count(&marker), 1, "the waiting future went with its call");
        assert_eq!(spare_sets().len(), 1);
        for site in 0..PER_THREAD + 2 {
            let mut slots = ProceedSlots::new(100 + site, 0);
            drop(slots.at(0, 1).hold(async { Ok(()) }, &mut cx));
        }
        let kept = spare_sets();
        assert_eq!(kept.len(), PER_THREAD, "bounded");
        assert_eq!(kept[0].0, (102, 0), "the oldest went first");
        clear_spares();
    }
}
