//! Header fields a call answers with unless the answer has its own (DefaultHeaders' `Server` and configured
//! headers), kept aside until they are needed rather than inserted into the response's header map per call.

use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderMap, HeaderName, HeaderValue};

/// Default fields by name, in the order configured; all values of a name are sent, or none.
pub(crate) type DefaultList = [(HeaderName, Vec<HeaderValue>)];

/// A [`DefaultList`] as a list is kept: a `Vec`, so that a pointer to it is thin.
type FieldList = Vec<(HeaderName, Vec<HeaderValue>)>;

/// A list of default fields, as each response that gets them refers to it: interned (kept for the life of the
/// process, shared by every install of an equal list, and referred to without a reference count) for the first
/// [`MAX_INTERNED`] distinct lists, counted by reference beyond that.
#[derive(Clone)]
pub(crate) enum DefaultFields {
    // Thin pointers (to the `Vec`): with its tag and the mask, a response's defaults take 24 bytes, as many as one
    // `Arc<[_]>` and a mask did.
    Interned(&'static FieldList),
    Shared(Arc<FieldList>),
}

/// How many distinct lists a process interns: a bound on the memory they keep (an application installs one or
/// two; a process that makes many applications with the same configuration interns it once).
const MAX_INTERNED: usize = 64;

impl DefaultFields {
    /// The list, interned if an equal one is or there is room for one more; shared otherwise.
    pub(crate) fn new(mut list: FieldList) -> Self {
        static INTERNED: Mutex<Vec<&'static FieldList>> = Mutex::new(Vec::new());
        let mut interned = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = interned.iter().find(|known| ***known == list) {
            return DefaultFields::Interned(known);
        }
        if interned.len() >= MAX_INTERNED {
            return DefaultFields::Shared(Arc::new(list));
        }
        list.shrink_to_fit();
        let kept: &'static FieldList = Box::leak(Box::new(list));
        interned.push(kept);
        DefaultFields::Interned(kept)
    }
}

impl Deref for DefaultFields {
    type Target = DefaultList;

    fn deref(&self) -> &DefaultList {
        match self {
            DefaultFields::Interned(list) => list,
            DefaultFields::Shared(list) => list,
        }
    }
}

impl std::fmt::Debug for DefaultFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The most default names one [`ResponseDefaults`] holds (one bit each in its mask).
pub(crate) const MAX_DEFERRED: usize = 64;

/// Default fields pending on one response: the shared list and which of its names the response's content did not
/// have when they were set (the content's own field wins over a default).
///
/// They are inserted into the response's header map ([`materialize`](Self::materialize)) the moment anything
/// looks at or changes that map, so every observer sees the map it would have seen had they been inserted when
/// they were set; an engine that takes the answer without the map being touched writes them straight to the wire
/// (see [`EngineResponse`](super::EngineResponse)): no entry in the map, no allocation of it for an answer that
/// sets no header of its own.
pub(crate) struct ResponseDefaults {
    fields: DefaultFields,
    /// Bit `i` set: `fields[i]` applies (the content had no field of that name).
    mask: u64,
}

impl ResponseDefaults {
    /// Defaults of `fields` whose index bit is set in `mask`; `fields` holds at most [`MAX_DEFERRED`] names.
    pub(crate) fn new(fields: DefaultFields, mask: u64) -> Self {
        debug_assert!(fields.len() <= MAX_DEFERRED, "a mask of 64 bits covers 64 names");
        ResponseDefaults { fields, mask }
    }

    /// The names and values that apply, each name with all its values.
    pub(crate) fn applying(&self) -> impl Iterator<Item = (&HeaderName, &[HeaderValue])> {
        let mask = self.mask;
        self.fields
            .iter()
            .enumerate()
            .filter(move |(index, _)| mask & (1 << index) != 0)
            .map(|(_, (name, values))| (name, values.as_slice()))
    }

    /// How many names the list holds (whether they apply or not).
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// The name at `index` of the list and its values, if it applies.
    pub(crate) fn get(&self, index: usize) -> Option<(&HeaderName, &[HeaderValue])> {
        let (name, values) = self.fields.get(index).filter(|_| self.mask & (1 << index) != 0)?;
        Some((name, values.as_slice()))
    }

    /// True if one of the names that apply is `name`.
    pub(crate) fn applies_to(&self, name: &HeaderName) -> bool {
        self.applying().any(|(default, _)| default == name)
    }

    /// Inserts the defaults into `headers`, each name only where `headers` has none (the response's own wins).
    pub(crate) fn materialize(self, headers: &mut HeaderMap) {
        for (name, values) in self.applying() {
            let Some((first, rest)) = values.split_first() else { continue };
            if let http::header::Entry::Vacant(entry) = headers.entry(name) {
                let mut entry = entry.insert_entry(first.clone());
                for value in rest {
                    entry.append(value.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http::header::SERVER;
    use http::{HeaderName, HeaderValue};

    use super::{DefaultFields, MAX_INTERNED};

    fn list(value: &str) -> Vec<(HeaderName, Vec<HeaderValue>)> {
        vec![(SERVER, vec![HeaderValue::from_str(value).expect("a valid value")])]
    }

    #[test]
    fn equal_lists_are_interned_once_and_distinct_ones_up_to_the_bound() {
        let DefaultFields::Interned(first) = DefaultFields::new(list("interned/1")) else { panic!("interned") };
        let DefaultFields::Interned(again) = DefaultFields::new(list("interned/1")) else { panic!("interned") };
        assert!(std::ptr::eq(first, again), "an equal list is the same interned one");
        // Other tests of this process may have interned lists too: distinct lists are interned until the bound.
        let shared_after = (0..=MAX_INTERNED)
            .position(|n| matches!(DefaultFields::new(list(&format!("distinct/{n}"))), DefaultFields::Shared(_)))
            .expect("counted by reference beyond the bound");
        assert!(shared_after < MAX_INTERNED);
        let DefaultFields::Shared(shared) = DefaultFields::new(list("beyond")) else { panic!("shared") };
        assert_eq!(&shared[..], &list("beyond")[..]);
        assert!(matches!(DefaultFields::new(list("interned/1")), DefaultFields::Interned(_)), "still found");
    }
}
