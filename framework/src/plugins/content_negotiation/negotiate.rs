//! Choosing the media type of a response from `Accept`, and the converter of a request from `Content-Type`.

use mime::Mime;

/// The quality `accept` (the `Accept` values) gives `media`: the `q` of the most specific range that matches it
/// (`type/subtype;param` beats `type/subtype` beats `type/*` beats `*/*`), 0 if none does. No `Accept` at all
/// accepts everything (1.0).
pub(crate) fn quality<'h>(accept: impl Iterator<Item = &'h str>, media: &Mime) -> f32 {
    let mut seen_any = false;
    let mut best: Option<(usize, f32)> = None;
    for item in accept.flat_map(|value| value.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        seen_any = true;
        let Ok(range) = item.parse::<Mime>() else { continue };
        let Some(specificity) = specificity(&range, media) else { continue };
        if best.is_none_or(|(best, _)| specificity > best) {
            best = Some((specificity, range_quality(&range)));
        }
    }
    match best {
        Some((_, quality)) => quality,
        None if seen_any => 0.0,
        None => 1.0,
    }
}

/// How specifically `range` names `media`, if it matches it.
fn specificity(range: &Mime, media: &Mime) -> Option<usize> {
    let any_type = range.type_() == mime::STAR;
    let any_subtype = range.subtype() == mime::STAR;
    if !any_type && range.type_() != media.type_() {
        return None;
    }
    if !any_subtype && (range.subtype() != media.subtype() || range.suffix() != media.suffix()) {
        return None;
    }
    let mut parameters = 0;
    for (name, value) in range.params() {
        if name == "q" {
            continue;
        }
        let matched = media.get_param(name).is_some_and(|own| own.as_str().eq_ignore_ascii_case(value.as_str()));
        if !matched {
            return None;
        }
        parameters += 1;
    }
    Some(usize::from(!any_type) * 1000 + usize::from(!any_subtype) * 100 + parameters)
}

/// The `q` parameter of an `Accept` range; a malformed one counts as 0 (refused).
fn range_quality(range: &Mime) -> f32 {
    match range.get_param("q") {
        None => 1.0,
        Some(value) => {
            let quality: f32 = value.as_str().parse().unwrap_or(0.0);
            if quality.is_finite() { quality.clamp(0.0, 1.0) } else { 0.0 }
        }
    }
}

/// True if a body sent as `sent` can be read by a converter registered for `registered`: the same
/// `type/subtype`, or a structured-syntax suffix of it (`application/problem+json` for `application/json`).
pub(crate) fn reads(registered: &Mime, sent: &Mime) -> bool {
    if registered.type_() != sent.type_() {
        return false;
    }
    let same = registered.subtype() == sent.subtype() && registered.suffix() == sent.suffix();
    same || (registered.suffix().is_none() && sent.suffix().is_some_and(|suffix| suffix == registered.subtype()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(accept: &str, media: &str) -> f32 {
        quality(std::iter::once(accept), &media.parse().unwrap())
    }

    #[test]
    fn the_most_specific_range_decides() {
        assert_eq!(q("application/json", "application/json"), 1.0);
        assert_eq!(q("*/*;q=0.1", "application/json"), 0.1);
        assert_eq!(q("application/*;q=0.5, */*;q=0.1", "application/json"), 0.5);
        assert_eq!(q("application/*;q=0.5, application/json;q=0", "application/json"), 0.0);
        assert_eq!(q("text/html", "application/json"), 0.0);
        assert_eq!(q("text/csv;charset=utf-8;q=0.7, text/*;q=0.2", "text/csv; charset=utf-8"), 0.7);
        assert_eq!(q("text/csv;charset=latin1, text/*;q=0.2", "text/csv; charset=utf-8"), 0.2);
        assert_eq!(q("application/json;q=x", "application/json"), 0.0);
        assert_eq!(q("nonsense", "application/json"), 0.0);
        assert_eq!(quality(std::iter::empty(), &mime::APPLICATION_JSON), 1.0);
    }

    #[test]
    fn suffixes_are_read_by_their_base_type() {
        let json = mime::APPLICATION_JSON;
        assert!(reads(&json, &"application/json; charset=utf-8".parse().unwrap()));
        assert!(reads(&json, &"application/merge-patch+json".parse().unwrap()));
        assert!(!reads(&json, &"text/json".parse().unwrap()));
        assert!(!reads(&json, &"application/jsonx".parse().unwrap()));
    }
}
