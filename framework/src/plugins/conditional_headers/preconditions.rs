//! Evaluating the preconditions of a request (RFC 9110 §13.2.2), given the representation's validators.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
use http::{HeaderMap, Method};

use super::{EntityTag, EntityTagList};

/// What the preconditions decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Perform the method: answer as the handler did.
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
}

/// The validators of the selected representation.
#[derive(Debug, Default)]
pub(crate) struct Validators {
    pub(crate) etag: Option<EntityTag>,
    pub(crate) last_modified: Option<SystemTime>,
}

/// Parses an HTTP date; an invalid date is `None` (and the header is ignored, as RFC 9110 says).
pub(crate) fn http_date(headers: &HeaderMap, name: &http::HeaderName) -> Option<SystemTime> {
    let value = headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

/// `time` with its sub-second part dropped: HTTP dates have whole seconds.
pub(crate) fn whole_seconds(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        Err(_) => time,
    }
}

/// RFC 9110 §13.2.2, steps 1 to 4.
pub(crate) fn evaluate(method: &Method, request: &HeaderMap, validators: &Validators) -> Outcome {
    let last_modified = validators.last_modified.map(whole_seconds);
    // 1. If-Match (strong comparison); 2. else If-Unmodified-Since.
    if let Some(list) = EntityTagList::from_headers(request, &IF_MATCH) {
        if !list.matches(validators.etag.as_ref(), true) {
            return Outcome::PreconditionFailed;
        }
    } else if let (Some(since), Some(modified)) = (http_date(request, &IF_UNMODIFIED_SINCE), last_modified) {
        if modified > since {
            return Outcome::PreconditionFailed;
        }
    }
    let safe = method == Method::GET || method == Method::HEAD;
    // 3. If-None-Match (weak comparison); 4. else If-Modified-Since, for GET and HEAD only.
    if let Some(list) = EntityTagList::from_headers(request, &IF_NONE_MATCH) {
        if list.matches(validators.etag.as_ref(), false) {
            return if safe { Outcome::NotModified } else { Outcome::PreconditionFailed };
        }
    } else if safe {
        if let (Some(since), Some(modified)) = (http_date(request, &IF_MODIFIED_SINCE), last_modified) {
            if modified <= since {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Proceed
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_static(value))).collect()
    }

    fn validators() -> Validators {
        Validators {
            etag: EntityTag::strong("v1"),
            last_modified: Some(UNIX_EPOCH + Duration::from_millis(784_111_777_500)),
        }
    }

    #[test]
    fn the_order_of_rfc_9110() {
        let get = Method::GET;
        let v = validators();
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(evaluate(&get, &headers(&[("if-match", "\"v2\"")]), &v), Outcome::PreconditionFailed);
        assert_eq!(evaluate(&get, &headers(&[("if-match", "W/\"v1\"")]), &v), Outcome::PreconditionFailed);
        assert_eq!(evaluate(&get, &headers(&[("if-match", "\"v1\"")]), &v), Outcome::Proceed);
        // If-Match present: If-Unmodified-Since is not looked at.
        let ius = headers(&[("if-match", "*"), ("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")]);
        assert_eq!(evaluate(&get, &ius, &v), Outcome::Proceed);
        // If-None-Match present: If-Modified-Since is not looked at.
        let inm = headers(&[("if-none-match", "\"other\""), ("if-modified-since", date)]);
        assert_eq!(evaluate(&get, &inm, &v), Outcome::Proceed);
        assert_eq!(evaluate(&get, &headers(&[("if-modified-since", date)]), &v), Outcome::NotModified);
        assert_eq!(evaluate(&Method::POST, &headers(&[("if-modified-since", date)]), &v), Outcome::Proceed);
        assert_eq!(evaluate(&get, &headers(&[("if-modified-since", "yesterday")]), &v), Outcome::Proceed);
        assert_eq!(evaluate(&Method::PUT, &headers(&[("if-none-match", "*")]), &v), Outcome::PreconditionFailed);
    }
}
