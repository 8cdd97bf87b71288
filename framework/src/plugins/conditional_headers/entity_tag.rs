//! Entity tags (RFC 9110 §8.8.3): parsing, strong and weak comparison, and lists of them.

use std::fmt;

use http::HeaderValue;
use http::header::{GetAll, HeaderMap, HeaderName};

/// An entity tag: an opaque validator, strong (`"abc"`) or weak (`W/"abc"`).
///
/// ```
/// use rotor::plugins::conditional_headers::EntityTag;
///
/// let strong = EntityTag::strong("v1").unwrap();
/// let weak = EntityTag::parse("W/\"v1\"").unwrap();
/// assert!(strong.weak_eq(&weak));
/// assert!(!strong.strong_eq(&weak));
/// assert_eq!(weak.to_string(), "W/\"v1\"");
/// assert!(EntityTag::strong("no\"quotes").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntityTag {
    weak: bool,
    opaque: String,
}

impl EntityTag {
    /// A strong tag with the given opaque value (without quotes); `None` if it holds a character an entity tag
    /// may not (`"`, controls, space).
    pub fn strong(opaque: impl Into<String>) -> Option<Self> {
        Self::checked(false, opaque.into())
    }

    /// A weak tag with the given opaque value (without quotes); `None` as for [`strong`](Self::strong).
    pub fn weak(opaque: impl Into<String>) -> Option<Self> {
        Self::checked(true, opaque.into())
    }

    fn checked(weak: bool, opaque: String) -> Option<Self> {
        opaque.bytes().all(is_etagc).then_some(EntityTag { weak, opaque })
    }

    /// Parses one entity tag as it appears in `ETag` (`"v1"` or `W/"v1"`); `None` if it is malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let (tag, rest) = parse_one(text.trim())?;
        rest.trim().is_empty().then_some(tag)
    }

    /// True for a weak tag.
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque value, without quotes.
    pub fn opaque(&self) -> &str {
        &self.opaque
    }

    /// Strong comparison: both tags strong and their values equal (used by `If-Match` and `If-Range`).
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison: the values equal, weakness aside (used by `If-None-Match`).
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }

    /// The tag as a header value.
    pub fn to_header_value(&self) -> HeaderValue {
        // Every byte was checked to be a visible ASCII or obs-text character, which header values accept.
        HeaderValue::from_str(&self.to_string()).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weak {
            f.write_str("W/")?;
        }
        write!(f, "\"{}\"", self.opaque)
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`.
fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7E).contains(&byte) || byte >= 0x80
}

/// Parses one tag at the start of `text`; returns it and the rest.
fn parse_one(text: &str) -> Option<(EntityTag, &str)> {
    let (weak, rest) = match text.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let opaque = &rest[..end];
    if !opaque.bytes().all(is_etagc) {
        return None;
    }
    Some((EntityTag { weak, opaque: opaque.to_owned() }, &rest[end + 1..]))
}

/// The value of `If-Match` or `If-None-Match`: `*`, or a list of entity tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityTagList {
    /// `*`: any current representation.
    Any,
    /// The listed tags (malformed members are left out).
    Tags(Vec<EntityTag>),
}

impl EntityTagList {
    /// Reads every `name` header of `headers` as one list; `None` if there is no such header.
    pub fn from_headers(headers: &HeaderMap, name: &HeaderName) -> Option<Self> {
        let values: GetAll<'_, HeaderValue> = headers.get_all(name);
        let mut iter = values.iter().peekable();
        iter.peek()?;
        let mut tags = Vec::new();
        for value in iter {
            let Ok(text) = value.to_str() else { continue };
            if text.trim() == "*" {
                return Some(EntityTagList::Any);
            }
            parse_list_into(text, &mut tags);
        }
        Some(EntityTagList::Tags(tags))
    }

    /// True if `current` (the representation's tag, if it has one) matches, comparing strongly or weakly.
    pub fn matches(&self, current: Option<&EntityTag>, strong: bool) -> bool {
        match (self, current) {
            (EntityTagList::Any, _) => true,
            (EntityTagList::Tags(_), None) => false,
            (EntityTagList::Tags(tags), Some(current)) => {
                tags.iter().any(|tag| if strong { tag.strong_eq(current) } else { tag.weak_eq(current) })
            }
        }
    }
}

/// Parses a comma-separated list of tags; commas inside quotes belong to the tag. A malformed member ends
/// parsing of this header value (what was read so far is kept).
fn parse_list_into(text: &str, tags: &mut Vec<EntityTag>) {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return;
        }
        let Some((tag, after)) = parse_one(rest) else { return };
        tags.push(tag);
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_commas_inside_quotes_and_skip_garbage() {
        let mut headers = HeaderMap::new();
        headers.append(http::header::IF_NONE_MATCH, HeaderValue::from_static("\"a,b\", W/\"c\""));
        headers.append(http::header::IF_NONE_MATCH, HeaderValue::from_static("\"d\" ,, bogus"));
        let list = EntityTagList::from_headers(&headers, &http::header::IF_NONE_MATCH).unwrap();
        let EntityTagList::Tags(tags) = list else { panic!("a list") };
        let names: Vec<_> = tags.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["\"a,b\"", "W/\"c\"", "\"d\""]);
        assert!(EntityTag::parse("\"unterminated").is_none());
        assert!(EntityTag::parse("w/\"lowercase-w\"").is_none());
        assert!(EntityTag::parse("\"x\" trailing").is_none());
    }
}
