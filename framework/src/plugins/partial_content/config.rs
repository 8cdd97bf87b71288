//! `PartialContentConfig`.

/// The configuration of [`PartialContent`](super::PartialContent).
#[derive(Clone, Debug)]
pub struct PartialContentConfig {
    /// The most `byte-range-spec`s a `Range` header may list before they are served as the single range that
    /// spans them all (Ktor's `maxRangeCount`). Default 10.
    pub max_range_count: usize,
}

impl Default for PartialContentConfig {
    fn default() -> Self {
        PartialContentConfig { max_range_count: 10 }
    }
}
