//! Splitting a request path into percent-decoded segments, as routing sees it.

use std::borrow::Cow;

use crate::{Error, Result};
use smallvec::SmallVec;

/// How many segments a path holds before its list moves to the heap.
const INLINE_SEGMENTS: usize = 8;

/// A request path split for routing: empty segments are skipped, a trailing `/` is kept as an empty last
/// segment (unless trailing slashes are ignored), and each segment is percent-decoded on its own, so `%2F`
/// stays inside its segment.
///
/// ```
/// use rotor::routing::RequestPath;
///
/// let path = RequestPath::parse("/files//a%2Fb/", false).unwrap();
/// assert_eq!(path.segments(), ["files", "a/b", ""]);
/// assert!(path.has_trailing_slash());
/// assert_eq!(RequestPath::parse("/files/a/", true).unwrap().segments(), ["files", "a"]);
/// assert_eq!(RequestPath::parse("/bad%zz", false).unwrap_err().status(), 400);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestPath<'a> {
    segments: SmallVec<[Cow<'a, str>; INLINE_SEGMENTS]>,
    has_trailing_slash: bool,
}

impl<'a> RequestPath<'a> {
    /// Splits and decodes `path` (the path of the request target, still percent-encoded).
    ///
    /// # Errors
    /// A 400 error for a malformed percent escape or an escape that decodes to invalid UTF-8.
    pub fn parse(path: &'a str, ignore_trailing_slash: bool) -> Result<Self> {
        let has_trailing_slash = path.ends_with('/');
        let mut segments = SmallVec::new();
        if path.is_empty() || path == "/" {
            return Ok(RequestPath { segments, has_trailing_slash });
        }
        let body = if ignore_trailing_slash { path.trim_end_matches('/') } else { path };
        let escaped = body.as_bytes().contains(&b'%');
        for raw in body.split('/').filter(|segment| !segment.is_empty()) {
            segments.push(if escaped { decode_segment(raw, path)? } else { Cow::Borrowed(raw) });
        }
        if has_trailing_slash && !ignore_trailing_slash {
            segments.push(Cow::Borrowed(""));
        }
        Ok(RequestPath { segments, has_trailing_slash })
    }

    /// The decoded segments.
    pub fn segments(&self) -> &[Cow<'a, str>] {
        self.segments.as_slice()
    }

    /// True when the raw path ended with `/`.
    pub fn has_trailing_slash(&self) -> bool {
        self.has_trailing_slash
    }
}

/// Percent-decodes one segment; `+` stays a `+` (it means a space only in queries).
#[inline]
pub(crate) fn decode_segment<'a>(raw: &'a str, whole: &str) -> Result<Cow<'a, str>> {
    if !raw.as_bytes().contains(&b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    decode_escapes(raw, whole).map(Cow::Owned)
}

/// Decodes the percent escapes of `raw`, a segment that has some (out of line: most segments have none).
#[cold]
fn decode_escapes(raw: &str, whole: &str) -> Result<String> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let high = bytes.get(index + 1).copied().and_then(hex_value);
            let low = bytes.get(index + 2).copied().and_then(hex_value);
            let (Some(high), Some(low)) = (high, low) else {
                return Err(Error::bad_request(format!(
                    "malformed percent escape in the request path {whole:?}: `%` must be followed by two hex digits"
                )));
            };
            decoded.push(high << 4 | low);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| {
        Error::bad_request(format!("the request path {whole:?} has a percent escape that is not valid UTF-8"))
    })
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        RequestPath::parse(path, false).unwrap().segments().iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_like_ktor() {
        assert!(segments("").is_empty());
        assert!(segments("/").is_empty());
        assert_eq!(segments("//a///b"), ["a", "b"]);
        assert_eq!(segments("/a/b//"), ["a", "b", ""]);
        assert_eq!(segments("/hi%20there/x+y"), ["hi there", "x+y"]);
        assert_eq!(segments("/%E2%82%AC"), ["€"]);
        assert!(RequestPath::parse("/%", false).is_err());
        assert!(RequestPath::parse("/%4", false).is_err());
        assert!(RequestPath::parse("/%ff", false).is_err());
        assert!(RequestPath::parse("/", true).unwrap().segments().is_empty());
    }
}
