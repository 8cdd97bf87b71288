//! Parsing of header values with qualities and of media types, for the header, `Accept` and `Content-Type`
//! selectors.

/// One item of a comma-separated header value, with its `q` parameter (1.0 when absent).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HeaderItem<'a> {
    pub(crate) value: &'a str,
    pub(crate) quality: f64,
}

/// The items of a header value, best quality first (stable: equal qualities keep their order); items with
/// `q=0` (refused) are dropped.
pub(crate) fn parse_and_sort(header: &str) -> Vec<HeaderItem<'_>> {
    let mut items: Vec<HeaderItem<'_>> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let value = parts.next()?.trim();
            if value.is_empty() {
                return None;
            }
            let mut quality = 1.0;
            for parameter in parts {
                if let Some((name, q)) = parameter.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        quality = q.trim().parse::<f64>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(1.0);
                    }
                }
            }
            (quality > 0.0).then_some(HeaderItem { value, quality })
        })
        .collect();
    items.sort_by(|a, b| b.quality.total_cmp(&a.quality));
    items
}

/// A media type: `type/subtype` and its parameters, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MediaType {
    pub(crate) kind: String,
    pub(crate) subtype: String,
    pub(crate) parameters: Vec<(String, String)>,
}

impl MediaType {
    /// Parses `type/subtype; name=value`; `None` if it is not of that form.
    pub(crate) fn parse(text: &str) -> Option<MediaType> {
        let mut parts = text.split(';');
        let essence = parts.next()?.trim();
        let (kind, subtype) = essence.split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || subtype.contains('/') {
            return None;
        }
        let parameters = parts
            .filter_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                let name = name.trim().to_ascii_lowercase();
                (name != "q").then(|| (name, value.trim().trim_matches('"').to_ascii_lowercase()))
            })
            .collect();
        Some(MediaType { kind: kind.to_ascii_lowercase(), subtype: subtype.to_ascii_lowercase(), parameters })
    }

    /// True if `self` falls under `pattern` (`*` matches any type or subtype; every parameter of the pattern
    /// must be present with the same value).
    pub(crate) fn matches(&self, pattern: &MediaType) -> bool {
        (pattern.kind == "*" || pattern.kind == self.kind)
            && (pattern.subtype == "*" || pattern.subtype == self.subtype)
            && pattern.parameters.iter().all(|parameter| self.parameters.contains(parameter))
    }

    /// Ktor's `isCompatibleWith`, between a type a route produces (`self`) and one a client accepts.
    pub(crate) fn is_compatible_with(&self, accepted: &MediaType) -> bool {
        let any = |media: &MediaType| media.kind == "*" && media.subtype == "*";
        if any(self) || any(accepted) {
            true
        } else if self.subtype == "*" {
            accepted.matches(self)
        } else {
            self.matches(accepted)
        }
    }
}

impl std::fmt::Display for MediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.subtype)?;
        for (name, value) in &self.parameters {
            write!(f, "; {name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_items_are_sorted_by_quality() {
        let items = parse_and_sort("text/html;q=0.5, application/json, text/plain;q=0, */*;q=0.1");
        let values: Vec<_> = items.iter().map(|item| (item.value, item.quality)).collect();
        assert_eq!(values, [("application/json", 1.0), ("text/html", 0.5), ("*/*", 0.1)]);
    }

    #[test]
    fn media_types_match_patterns() {
        let json = MediaType::parse("Application/JSON; charset=UTF-8").unwrap();
        assert!(json.matches(&MediaType::parse("application/*").unwrap()));
        assert!(json.matches(&MediaType::parse("application/json; charset=utf-8").unwrap()));
        assert!(!json.matches(&MediaType::parse("application/json; charset=latin1").unwrap()));
        assert!(!json.matches(&MediaType::parse("text/plain").unwrap()));
        let produced = MediaType::parse("application/json").unwrap();
        assert!(produced.is_compatible_with(&MediaType::parse("*/*").unwrap()));
        assert!(produced.is_compatible_with(&MediaType::parse("application/*").unwrap()));
        assert!(!produced.is_compatible_with(&MediaType::parse("text/*").unwrap()));
        assert!(MediaType::parse("nonsense").is_none());
    }
}
