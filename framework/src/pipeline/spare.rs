//! Spare execution states: each thread keeps the states of finished executions of each pipeline type (two of a
//! type, a few in all), so that the next execution of that type on the thread reuses one instead of allocating
//! one. Two of a type, and the last kept taken first, so that an execution run inside another of the same types
//! (a route's pipeline inside the application's call pipeline) finds its own again, with its step slots.
//!
//! Reusing a state costs two uniqueness checks ([`Arc::get_mut`], one when it is put away and one when it is
//! reused) where allocating and freeing one costs a `malloc`, a `free` and two locked decrements of the
//! reference counts. Only states nothing else refers to are kept, and a kept state holds nothing of its last
//! execution: when the execution ends, its subject is returned, its context moves to the execution's future and
//! its interceptor list is dropped.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::sync::Arc;

/// Spare states a thread keeps in all (in practice: the call pipeline's, a route's, the send pipeline's).
const PER_THREAD: usize = 6;

/// Spare states a thread keeps of one type: an execution and one run inside it.
const PER_TYPE: usize = 2;

/// A kept state with its type, compared without a virtual call.
type Kept = (TypeId, Arc<dyn Any + Send + Sync>);

thread_local! {
    static SPARE: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// The spare state of type `T` this thread kept last, if it keeps one.
pub(crate) fn take<T: Any + Send + Sync>() -> Option<Arc<T>> {
    SPARE
        .try_with(|spare| {
            let mut spare = spare.try_borrow_mut().ok()?;
            let index = spare.iter().rposition(|(kept, _)| *kept == TypeId::of::<T>())?;
            // Usually the last one: popped, with nothing to move.
            let (_, state) = if index + 1 == spare.len() { spare.pop()? } else { spare.remove(index) };
            state.downcast::<T>().ok()
        })
        .ok()
        .flatten()
}

/// Keeps `state` for a next [`take`] of its type on this thread, unless the thread keeps [`PER_TYPE`] of that type
/// or [`PER_THREAD`] already; a state not kept is dropped (outside the thread's list, so that its drop may run
/// pipelines itself).
pub(crate) fn put<T: Any + Send + Sync>(state: Arc<T>) {
    let mut state = Some(state);
    let _ = SPARE.try_with(|spare| {
        let Ok(mut spare) = spare.try_borrow_mut() else { return };
        let full = spare.iter().filter(|(kept, _)| *kept == TypeId::of::<T>()).nth(PER_TYPE - 1).is_some();
        if spare.len() < PER_THREAD && !full {
            if let Some(state) = state.take() {
                spare.push((TypeId::of::<T>(), state));
            }
        }
    });
    drop(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_put_are_taken_back_by_type_last_first_two_of_a_type_at_most() {
        let first = Arc::new(String::from("first"));
        let second = Arc::new(String::from("second"));
        let (first_at, second_at) = (Arc::as_ptr(&first), Arc::as_ptr(&second));
        put(first);
        put(Arc::new(7u64));
        put(second);
        put(Arc::new(String::from("third of the type: dropped")));
        let taken = take::<String>().expect("kept");
        assert_eq!(Arc::as_ptr(&taken), second_at, "the last kept comes first");
        assert_eq!(Arc::as_ptr(&take::<String>().expect("kept")), first_at);
        assert!(take::<String>().is_none(), "each taken once; the third was not kept");
        assert_eq!(*take::<u64>().expect("kept"), 7);
    }
}
