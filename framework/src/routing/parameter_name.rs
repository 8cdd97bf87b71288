//! Interned parameter names, so that capturing a path parameter does not copy its name.
//!
//! [`Parameters`](crate::call::Parameters) keeps names as `Cow<'static, str>`: a `'static` name is stored
//! without an allocation, any other one is copied for every request. A route's parameter names are declared
//! once, so each distinct name is leaked once, process-wide, and shared by every route (and every route tree)
//! that uses it. The memory is bounded by the set of names the application's patterns spell, a few bytes each;
//! request data never reaches it.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// The process-wide copy of `name`, made on its first use.
pub(crate) fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(interned) = names.get(name) {
        return interned;
    }
    let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(interned);
    interned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_name() {
        let first = intern("comment_id");
        let second = intern(&String::from("comment_id"));
        assert_eq!(first, "comment_id");
        assert!(std::ptr::eq(first, second));
        assert_ne!(intern("id"), first);
    }
}
