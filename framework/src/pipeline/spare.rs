//! Spare execution states: each thread keeps the state of a finished execution of each pipeline type (a few at
//! most), so that the next execution of that type on the thread reuses it instead of allocating one.
//!
//! Reusing a state costs two uniqueness checks ([`Arc::get_mut`], one when it is put away and one when it is
//! reused) where allocating and freeing one costs a `malloc`, a `free` and two locked decrements of the
//! reference counts. Only states nothing else refers to are kept, and a kept state holds nothing of its last
//! execution: when the execution ends, its subject is returned, its context moves to the execution's future and
//! its interceptor list is dropped.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::sync::Arc;

/// Spare states a thread keeps, of different types (in practice: the call pipeline's and the send pipeline's).
const PER_THREAD: usize = 4;

thread_local! {
    static SPARE: RefCell<Vec<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(Vec::new()) };
}

/// A spare state of type `T`, if this thread keeps one.
pub(crate) fn take<T: Any + Send + Sync>() -> Option<Arc<T>> {
    SPARE
        .try_with(|spare| {
            let mut spare = spare.try_borrow_mut().ok()?;
            let index = spare.iter().position(|state| (**state).type_id() == TypeId::of::<T>())?;
            spare.swap_remove(index).downcast::<T>().ok()
        })
        .ok()
        .flatten()
}

/// Keeps `state` for the next [`take`] of its type on this thread, unless the thread keeps one of that type or
/// [`PER_THREAD`] already; a state not kept is dropped (outside the thread's list, so that its drop may run
/// pipelines itself).
pub(crate) fn put<T: Any + Send + Sync>(state: Arc<T>) {
    let mut state = Some(state);
    let _ = SPARE.try_with(|spare| {
        let Ok(mut spare) = spare.try_borrow_mut() else { return };
        if spare.len() < PER_THREAD && !spare.iter().any(|kept| (**kept).type_id() == TypeId::of::<T>()) {
            if let Some(state) = state.take() {
                spare.push(state);
            }
        }
    });
    drop(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_put_is_taken_back_by_type_once() {
        let state = Arc::new(String::from("state"));
        let address = Arc::as_ptr(&state);
        put(state);
        put(Arc::new(String::from("second of the type: dropped")));
        assert!(take::<u64>().is_none());
        let taken = take::<String>().expect("kept");
        assert_eq!(Arc::as_ptr(&taken), address);
        assert!(take::<String>().is_none(), "taken once");
    }
}
