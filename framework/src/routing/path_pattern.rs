//! Parsing a declared route path (`/users/{id}/files/{path...}`) into path selectors.

use super::parameter_name;
use super::request_path::decode_segment;
use super::selector::{Kind, RouteSelector};

/// Parses `path` into the selectors of its segments, in order, ending with a trailing-slash selector when
/// the path ends with `/`.
///
/// # Panics
/// With a message naming the path, for a pattern that cannot match anything meaningful: an empty or
/// malformed parameter (`{}`, `{a}{b}`, an unbalanced brace), a suffix after a tailcard, a segment after a
/// tailcard, or a malformed percent escape.
pub(crate) fn parse(path: &str) -> Vec<RouteSelector> {
    let mut selectors = Vec::new();
    let mut after_tailcard = false;
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        if after_tailcard {
            panic!("invalid route path {path:?}: nothing may follow a tailcard (`{{...}}`), found {segment:?}");
        }
        let selector = parse_segment(path, segment);
        after_tailcard = matches!(selector.kind, Kind::Tailcard { .. });
        selectors.push(selector);
    }
    if path.ends_with('/') {
        if after_tailcard {
            panic!("invalid route path {path:?}: a tailcard (`{{...}}`) cannot be followed by a trailing slash");
        }
        selectors.push(RouteSelector::new(Kind::TrailingSlash));
    }
    selectors
}

fn parse_segment(path: &str, segment: &str) -> RouteSelector {
    let open = segment.find('{');
    let close = segment.rfind('}');
    let (Some(open), Some(close)) = (open, close) else {
        if segment.contains(['{', '}']) {
            panic!("invalid route path {path:?}: unbalanced brace in segment {segment:?}");
        }
        if segment == "*" {
            return RouteSelector::new(Kind::Wildcard);
        }
        let decoded = decode_segment(segment, path)
            .unwrap_or_else(|error| panic!("invalid route path {path:?}: {}", error.message()));
        return RouteSelector::new(Kind::Constant(decoded.into_owned()));
    };
    if close < open {
        panic!("invalid route path {path:?}: unbalanced brace in segment {segment:?}");
    }
    let prefix = &segment[..open];
    let suffix = &segment[close + 1..];
    let signature = &segment[open + 1..close];
    if signature.contains(['{', '}', '/']) || prefix.contains(['{', '}']) || suffix.contains(['{', '}']) {
        panic!("invalid route path {path:?}: a segment may hold one parameter only, found {segment:?}");
    }
    if let Some(name) = signature.strip_suffix("...") {
        if !suffix.is_empty() {
            panic!("invalid route path {path:?}: a suffix after a tailcard is not supported ({segment:?})");
        }
        return RouteSelector::new(Kind::Tailcard { name: parameter_name::intern(name), prefix: prefix.to_owned() });
    }
    let (name, optional) = match signature.strip_suffix('?') {
        Some(name) => (name, true),
        None => (signature, false),
    };
    if name.is_empty() {
        panic!("invalid route path {path:?}: a parameter needs a name ({segment:?}); use `*` for any segment");
    }
    RouteSelector::new(Kind::Parameter {
        name: parameter_name::intern(name),
        prefix: prefix.to_owned(),
        suffix: suffix.to_owned(),
        optional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(path: &str) -> Vec<String> {
        parse(path).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!(shown("/"), ["<slash>"]);
        assert!(shown("").is_empty());
        assert_eq!(shown("/a/{b}/{c?}/*/x-{d}/{e}.json/"), ["a", "{b}", "{c?}", "*", "x-{d}", "{e}.json", "<slash>"]);
        assert_eq!(shown("/hi%20there/{...}"), ["hi there", "{...}"]);
        assert_eq!(shown("files/pre-{rest...}"), ["files", "pre-{rest...}"]);
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in ["/{}", "/{a}{b}", "/{a", "/a}", "/{p...}/x", "/{p...}.txt", "/%zz", "/}{", "/{...}/"] {
            assert!(std::panic::catch_unwind(|| parse(bad)).is_err(), "{bad} should panic");
        }
    }
}
