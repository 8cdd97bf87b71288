//! Each thread keeps the header map of the last request it answered, emptied, and parses the next request head
//! into it: a map allocates twice when it is made (its index and its entries) and frees both when it is dropped,
//! about 270 instructions a request with glibc (`bench/instructions/measure.sh`), where emptying one and handing
//! it on costs a few. A map that grew large for one request is not kept.

use std::cell::Cell;

use http::HeaderMap;

/// The largest map kept, in fields it holds without growing (a map's capacity goes 6, 12, 24, 48, 96, …) or
/// holds; a larger one is freed.
const MAX_KEPT: usize = 48;

thread_local! {
    static SPARE: Cell<Option<HeaderMap>> = const { Cell::new(None) };
}

/// An empty map: this thread's spare one, or a new one.
pub(crate) fn take() -> HeaderMap {
    SPARE.try_with(Cell::take).ok().flatten().unwrap_or_default()
}

/// Keeps `map`, emptied, for this thread's next [`take`], unless it is larger than [`MAX_KEPT`] fields.
pub(crate) fn put(mut map: HeaderMap) {
    if map.capacity() > MAX_KEPT || map.len() > MAX_KEPT {
        return;
    }
    map.clear();
    let _ = SPARE.try_with(|spare| spare.set(Some(map)));
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn a_map_put_back_is_taken_again_empty_and_a_large_one_is_not_kept() {
        std::thread::spawn(|| {
            let mut map = take();
            map.insert("x-a", HeaderValue::from_static("1"));
            let capacity = map.capacity();
            put(map);
            let again = take();
            assert!(again.is_empty());
            assert_eq!(again.capacity(), capacity, "the same allocation");
            assert_eq!(take().capacity(), 0, "taken once");

            let mut large = HeaderMap::with_capacity(MAX_KEPT * 2);
            large.insert("x-b", HeaderValue::from_static("2"));
            put(large);
            assert_eq!(take().capacity(), 0, "not kept");
        })
        .join()
        .expect("the test thread");
    }
}
