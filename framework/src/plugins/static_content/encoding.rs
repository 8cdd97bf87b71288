//! `Accept-Encoding`: is a content coding acceptable (RFC 9110 §12.5.3)?

use http::HeaderMap;
use http::header::ACCEPT_ENCODING;

/// True if `coding` is acceptable: listed with a q-value above 0, or covered by `*` with one and not listed
/// with `q=0`.
pub(super) fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let mut star = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q=").or_else(|| param.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let acceptable = quality > 0.0;
            if name.eq_ignore_ascii_case(coding) || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip")) {
                return acceptable;
            }
            if name == "*" {
                star = Some(acceptable);
            }
        }
    }
    star.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn q_values_and_star() {
        assert!(accepts(&accept("gzip, br"), "br"));
        assert!(!accepts(&accept("gzip;q=1, br;q=0"), "br"));
        assert!(accepts(&accept("*"), "br"));
        assert!(!accepts(&accept("*, br;q=0"), "br"));
        assert!(!accepts(&accept("*;q=0"), "gzip"));
        assert!(accepts(&accept("x-gzip"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        assert!(!accepts(&accept("identity"), "gzip"));
    }
}
