//! The `Date` field, formatted at most once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

struct Cached {
    second: u64,
    line: String,
}

thread_local! {
    static DATE: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, line: String::new() }) };
}

/// Appends the `date` field line with the current time (IMF-fixdate) to `out`.
pub(crate) fn append(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    DATE.with_borrow_mut(|cached| {
        if cached.second != second {
            cached.second = second;
            cached.line = format!("date: {}\r\n", httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(cached.line.as_bytes());
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_date_line_is_an_imf_fixdate() {
        let mut out = Vec::new();
        super::append(&mut out);
        let line = String::from_utf8(out).unwrap();
        let value = line.strip_prefix("date: ").and_then(|rest| rest.strip_suffix("\r\n")).unwrap();
        assert!(httpdate::parse_http_date(value).is_ok(), "{value}");
    }
}
