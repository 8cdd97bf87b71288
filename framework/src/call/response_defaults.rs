//! Header fields a call answers with unless the answer has its own (DefaultHeaders' `Server` and configured
//! headers), kept aside until they are needed rather than inserted into the response's header map per call.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

/// A list of default fields, by name, in the order configured; all values of a name are sent, or none.
pub(crate) type DefaultFields = Arc<[(HeaderName, Vec<HeaderValue>)]>;

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
