//! The header field names a connection's requests sent, remembered by position, so that the next request's names
//! are compared as bytes instead of made again.
//!
//! A client sends the same names in the same order on every request of a connection (a browser, an HTTP client
//! library, a proxy), and making a `HeaderName` from bytes (a case-folding lookup among the standard names, or a
//! lowered copy for another name) cost about 110 instructions a field (`bench/instructions/measure.sh`); comparing
//! the bytes with the name sent at the same position last time and cloning that name costs a few. A name that
//! differs is made and remembered in its place. Names are remembered from a connection's second request on: a
//! connection that carries one request allocates nothing for them.

use std::ops::Range;

use http::HeaderName;
use http::header::InvalidHeaderName;

/// The positions remembered: a request's first fields (more go through `HeaderName::from_bytes` every time). A
/// browser sends 10 to 20.
const POSITIONS: usize = 24;
/// The most bytes of names kept; once over, the memory starts again empty (a client that keeps changing its
/// names costs a reset now and then, not a growing buffer).
///
/// At most, a connection keeps 512 bytes of names (in a buffer of at most 1 KiB), 24 entries of under 50 bytes,
/// and the lowered copies of the names that are not standard ones (at most 512 bytes more): under 3 KiB of heap. A
/// client that sends `Host`, `Accept`, `Connection` and `User-Agent` costs about 250 bytes.
const BYTES: usize = 512;

/// The names at each position of the last requests of one connection.
#[derive(Debug, Default)]
pub(crate) struct FieldNames {
    /// The raw bytes of the remembered names, as sent, one after another.
    raw: Vec<u8>,
    /// Per position: where its name's bytes lie in `raw`, and the name.
    names: Vec<(Range<usize>, HeaderName)>,
    /// A request has ended on this connection: the next ones' names are remembered.
    remembering: bool,
}

impl FieldNames {
    /// The name of the field at `position` of a request, sent as `raw`.
    ///
    /// # Errors
    /// If `raw` is not a valid field name.
    pub(crate) fn name(&mut self, position: usize, raw: &[u8]) -> Result<HeaderName, InvalidHeaderName> {
        if let Some((span, name)) = self.names.get(position) {
            if self.raw.get(span.clone()) == Some(raw) {
                return Ok(name.clone());
            }
        }
        let name = HeaderName::from_bytes(raw)?;
        if self.remembering {
            self.remember(position, raw, &name);
        }
        Ok(name)
    }

    /// Says that a request's names have all been read: from now on they are remembered.
    pub(crate) fn end_request(&mut self) {
        self.remembering = true;
    }

    fn remember(&mut self, position: usize, raw: &[u8], name: &HeaderName) {
        if position > self.names.len() || position >= POSITIONS || raw.len() > BYTES {
            return;
        }
        if self.raw.len() + raw.len() > BYTES {
            // Starting again keeps positions in step: only the first position can be remembered after a reset.
            self.raw.clear();
            self.names.clear();
            if position != 0 {
                return;
            }
        }
        let span = self.raw.len()..self.raw.len() + raw.len();
        self.raw.extend_from_slice(raw);
        match self.names.get_mut(position) {
            Some(entry) => *entry = (span, name.clone()),
            None => self.names.push((span, name.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_remembered_from_the_second_request_by_position_and_replaced_when_they_differ() {
        let mut names = FieldNames::default();
        for request in 0..3 {
            assert_eq!(names.name(0, b"Host").unwrap(), "host");
            assert_eq!(names.name(1, b"X-Custom").unwrap(), "x-custom");
            names.end_request();
            // A connection's first request leaves nothing behind (no allocation).
            assert_eq!(names.names.len(), if request == 0 { 0 } else { 2 });
            assert_eq!(names.raw.capacity() == 0, request == 0);
        }
        // The same name in other case is another spelling: made again, and it takes the position.
        assert_eq!(names.name(0, b"HOST").unwrap(), "host");
        assert_eq!(names.name(0, b"HOST").unwrap(), "host");
        assert_eq!(names.name(1, b"Accept").unwrap(), "accept");
        assert_eq!(names.name(2, b"X-Custom").unwrap(), "x-custom");
        assert_eq!(names.names.len(), 3);
        // Names found again are not stored again.
        let stored = names.raw.len();
        for _ in 0..3 {
            assert_eq!(names.name(0, b"HOST").unwrap(), "host");
            assert_eq!(names.name(2, b"X-Custom").unwrap(), "x-custom");
        }
        assert_eq!(names.raw.len(), stored);
        assert!(names.name(3, b"bad name").is_err());
        assert_eq!(names.names.len(), 3, "an invalid name is not remembered");
    }

    #[test]
    fn memory_is_bounded_in_positions_and_bytes() {
        let mut names = FieldNames::default();
        names.end_request();
        for position in 0..POSITIONS + 5 {
            let raw = format!("x-field-{position}");
            assert_eq!(names.name(position, raw.as_bytes()).unwrap(), raw.as_str());
        }
        assert_eq!(names.names.len(), POSITIONS);
        // Names that change on every request: the buffer starts again rather than grow.
        for round in 0..200 {
            let raw = format!("x-round-{round}");
            assert_eq!(names.name(0, raw.as_bytes()).unwrap(), raw.as_str());
            assert!(names.raw.len() <= BYTES);
        }
        let long = "x".repeat(BYTES + 1);
        assert_eq!(names.name(0, long.as_bytes()).unwrap(), long.as_str());
        assert!(names.raw.len() <= BYTES);
    }
}
