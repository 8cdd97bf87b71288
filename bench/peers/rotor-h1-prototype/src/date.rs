//! The `Date` value, formatted at most once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

struct Cached {
    second: u64,
    value: String,
}

thread_local! {
    static DATE: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, value: String::new() }) };
}

/// Appends the `Date` field with the current time (IMF-fixdate) to `write`.
pub(crate) fn extend(write: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    DATE.with_borrow_mut(|cached| {
        if cached.second != second {
            cached.second = second;
            cached.value = format!("date: {}\r\n", httpdate::fmt_http_date(now));
        }
        write.extend_from_slice(cached.value.as_bytes());
    });
}
