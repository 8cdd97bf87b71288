//! Parsing `Range: bytes=…` and resolving it against a length (RFC 9110 §14.1.2).

use std::ops::Range;

/// The largest gap between two ranges that is merged rather than sent as two parts: smaller than the
/// overhead of a multipart part header (RFC 9110 §14.2 lets a server coalesce such ranges).
const COALESCE_GAP: u64 = 80;

/// One `byte-range-spec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spec {
    /// `first-last` or `first-`.
    From { first: u64, last: Option<u64> },
    /// `-suffix`: the last `suffix` bytes.
    Suffix(u64),
}

/// What a `Range` header asks for, against a representation of `length` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// The header is not one to honour (another unit, a syntax error): answer the whole representation.
    Ignore,
    /// No range is satisfiable: 416.
    Unsatisfiable,
    /// Sorted, non-overlapping, coalesced ranges (end exclusive).
    Satisfiable(Vec<Range<u64>>),
}

/// Parses `header` and resolves it against `length`. More than `max_ranges` specs are served as the one range
/// that spans them all (a client asking for many tiny ranges gets one part, not a denial of service).
pub(crate) fn resolve(header: &str, length: u64, max_ranges: usize) -> Ranges {
    let Some(specs) = parse(header) else { return Ranges::Ignore };
    let mut ranges: Vec<Range<u64>> =
        specs.iter().filter_map(|spec| satisfiable(*spec, length)).filter(|range| range.start < range.end).collect();
    if ranges.is_empty() {
        return Ranges::Unsatisfiable;
    }
    ranges.sort_by_key(|range| range.start);
    if specs.len() > max_ranges {
        let start = ranges.first().map_or(0, |range| range.start);
        let end = ranges.iter().map(|range| range.end).max().unwrap_or(length);
        return Ranges::Satisfiable(std::iter::once(start..end).collect());
    }
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end.saturating_add(COALESCE_GAP) => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    Ranges::Satisfiable(merged)
}

/// `bytes=spec, spec`; `None` for another unit or any malformed spec.
fn parse(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    for item in set.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (first, last) = item.split_once('-')?;
        let spec = match (first.trim(), last.trim()) {
            ("", "") => return None,
            ("", suffix) => Spec::Suffix(number(suffix)?),
            (first, "") => Spec::From { first: number(first)?, last: None },
            (first, last) => {
                let (first, last) = (number(first)?, number(last)?);
                if last < first {
                    return None;
                }
                Spec::From { first, last: Some(last) }
            }
        };
        specs.push(spec);
    }
    (!specs.is_empty()).then_some(specs)
}

fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn satisfiable(spec: Spec, length: u64) -> Option<Range<u64>> {
    match spec {
        Spec::From { first, last } if first < length => {
            let end = last.map_or(length, |last| last.saturating_add(1).min(length));
            Some(first..end)
        }
        Spec::From { .. } => None,
        Spec::Suffix(0) => None,
        Spec::Suffix(suffix) => Some(length.saturating_sub(suffix)..length),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ranges: &[(u64, u64)]) -> Ranges {
        Ranges::Satisfiable(ranges.iter().map(|&(start, end)| start..end).collect())
    }

    #[test]
    fn specs_resolve_against_the_length() {
        assert_eq!(resolve("bytes=0-499", 10_000, 10), ok(&[(0, 500)]));
        assert_eq!(resolve("bytes=-500", 10_000, 10), ok(&[(9_500, 10_000)]));
        assert_eq!(resolve("bytes=9500-", 10_000, 10), ok(&[(9_500, 10_000)]));
        assert_eq!(resolve("bytes=9990-20000", 10_000, 10), ok(&[(9_990, 10_000)]));
        assert_eq!(resolve("bytes=-20000", 10_000, 10), ok(&[(0, 10_000)]));
        assert_eq!(resolve("BYTES = 1-1", 10, 10), ok(&[(1, 2)]));
        assert_eq!(resolve("bytes=10-", 10, 10), Ranges::Unsatisfiable);
        assert_eq!(resolve("bytes=-0", 10, 10), Ranges::Unsatisfiable);
        assert_eq!(resolve("bytes=5-2", 10, 10), Ranges::Ignore);
        assert_eq!(resolve("items=0-1", 10, 10), Ranges::Ignore);
        assert_eq!(resolve("bytes=a-b", 10, 10), Ranges::Ignore);
        assert_eq!(resolve("bytes=-", 10, 10), Ranges::Ignore);
        assert_eq!(resolve("bytes=+1-2", 10, 10), Ranges::Ignore);
        assert_eq!(resolve("bytes=99999999999999999999999-", 10, 10), Ranges::Ignore);
    }

    #[test]
    fn overlapping_unsorted_and_many_ranges_coalesce() {
        assert_eq!(resolve("bytes=500-600,0-100", 10_000, 10), ok(&[(0, 101), (500, 601)]));
        assert_eq!(resolve("bytes=0-100,50-200", 10_000, 10), ok(&[(0, 201)]));
        assert_eq!(resolve("bytes=0-10,20-30", 10_000, 10), ok(&[(0, 31)]));
        let many: Vec<String> = (0..20).map(|i| format!("{}-{}", i * 200, i * 200)).collect();
        assert_eq!(resolve(&format!("bytes={}", many.join(",")), 10_000, 10), ok(&[(0, 3_801)]));
        assert_eq!(resolve("bytes=0-1,20000-", 100, 10), ok(&[(0, 2)]));
        assert_eq!(resolve("bytes=-5", 0, 10), Ranges::Unsatisfiable);
    }
}
