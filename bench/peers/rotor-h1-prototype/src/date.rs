//! The `Date` value, formatted at most once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;

struct Cached {
    second: u64,
    value: String,
}

thread_local! {
    static DATE: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, value: String::new() }) };
}

/// Appends the current `Date` value (IMF-fixdate) to `write`.
pub(crate) fn extend(write: &mut BytesMut) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    DATE.with_borrow_mut(|cached| {
        if cached.second != second {
            cached.second = second;
            cached.value = httpdate::fmt_http_date(now);
        }
        write.extend_from_slice(cached.value.as_bytes());
    });
}
