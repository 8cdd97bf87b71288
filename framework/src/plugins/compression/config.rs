//! `CompressionConfig`: which codings, for which responses.

use std::fmt;
use std::sync::Arc;

use super::Encoding;
use crate::call::{ApplicationCall, OutgoingContent};

/// The smallest body a [`CompressionConfig`] compresses by default, in bytes. Below it the gzip framing (about
/// 20 bytes) and the lost `Content-Length` cost more than compression saves.
pub const DEFAULT_MIN_SIZE: u64 = 200;

type Condition = Arc<dyn Fn(&ApplicationCall, &OutgoingContent) -> bool + Send + Sync>;

/// The configuration of [`Compression`](super::Compression).
///
/// Defaults: the codings `br`, `zstd`, `gzip`, `deflate` in that order of preference (the order breaks ties
/// between equal q-values), a minimum size of [`DEFAULT_MIN_SIZE`] (a body of unknown length is compressed),
/// the content types of [`is_compressible_by_default`], and request decompression on.
///
/// ```
/// use rotor::plugins::compression::{Compression, CompressionConfig, Encoding};
///
/// let mut app = rotor::Application::default();
/// app.install_with(Compression, |config: &mut CompressionConfig| {
///     config.encodings([Encoding::Gzip, Encoding::Brotli]).min_size(1024).content_type("application/x-ndjson");
///     config.condition(|call, _content| !call.request().path().starts_with("/raw"));
/// });
/// ```
#[derive(Clone)]
pub struct CompressionConfig {
    pub(crate) encodings: Vec<Encoding>,
    pub(crate) min_size: u64,
    pub(crate) included: Vec<String>,
    pub(crate) excluded: Vec<String>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) decompress_requests: bool,
}

impl Default for CompressionConfig {
    fn default() -> Self {
        CompressionConfig {
            encodings: vec![Encoding::Brotli, Encoding::Zstd, Encoding::Gzip, Encoding::Deflate],
            min_size: DEFAULT_MIN_SIZE,
            included: Vec::new(),
            excluded: Vec::new(),
            conditions: Vec::new(),
            decompress_requests: true,
        }
    }
}

impl fmt::Debug for CompressionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressionConfig")
            .field("encodings", &self.encodings)
            .field("min_size", &self.min_size)
            .field("included", &self.included)
            .field("excluded", &self.excluded)
            .field("conditions", &self.conditions.len())
            .field("decompress_requests", &self.decompress_requests)
            .finish()
    }
}

impl CompressionConfig {
    /// The codings to offer, most preferred first (duplicates are ignored). An empty list turns response
    /// compression off.
    pub fn encodings(&mut self, encodings: impl IntoIterator<Item = Encoding>) -> &mut Self {
        self.encodings.clear();
        for encoding in encodings {
            if !self.encodings.contains(&encoding) {
                self.encodings.push(encoding);
            }
        }
        self
    }

    /// Bodies shorter than `bytes` are sent as they are.
    pub fn min_size(&mut self, bytes: u64) -> &mut Self {
        self.min_size = bytes;
        self
    }

    /// Also compresses this content type: `type/subtype` or `type/*` (parameters are ignored).
    pub fn content_type(&mut self, pattern: &str) -> &mut Self {
        self.included.push(pattern.trim().to_ascii_lowercase());
        self
    }

    /// Never compresses this content type (`type/subtype` or `type/*`); beats every inclusion.
    pub fn exclude_content_type(&mut self, pattern: &str) -> &mut Self {
        self.excluded.push(pattern.trim().to_ascii_lowercase());
        self
    }

    /// Compresses only responses for which `condition` holds as well (every condition must hold).
    pub fn condition(
        &mut self,
        condition: impl Fn(&ApplicationCall, &OutgoingContent) -> bool + Send + Sync + 'static,
    ) -> &mut Self {
        self.conditions.push(Arc::new(condition));
        self
    }

    /// Whether request bodies with `Content-Encoding` are decoded when received (default: yes).
    pub fn decompress_requests(&mut self, decompress: bool) -> &mut Self {
        self.decompress_requests = decompress;
        self
    }

    /// True if a body of `content_type` (a `Content-Type` value) may be compressed.
    pub(crate) fn compresses_type(&self, content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if self.excluded.iter().any(|pattern| matches(pattern, &essence)) {
            return false;
        }
        self.included.iter().any(|pattern| matches(pattern, &essence)) || is_compressible_by_default(&essence)
    }
}

fn matches(pattern: &str, essence: &str) -> bool {
    match pattern.strip_suffix("/*") {
        Some(kind) => essence.split('/').next() == Some(kind),
        None => pattern == essence,
    }
}

/// The content types compressed by default: text (`text/*`), JSON, JavaScript, XML and their `+json` / `+xml`
/// kin (SVG, Atom, RSS, XHTML, JSON-LD, problem details), NDJSON, WebAssembly, uncompressed fonts (TTF, OTF) and
/// `application/vnd.ms-fontobject`. Images, audio, video, archives and other already compressed or opaque
/// types (`application/octet-stream`) are not.
///
/// ```
/// use rotor::plugins::compression::is_compressible_by_default;
///
/// assert!(is_compressible_by_default("text/html"));
/// assert!(is_compressible_by_default("application/problem+json"));
/// assert!(is_compressible_by_default("image/svg+xml"));
/// assert!(!is_compressible_by_default("image/png"));
/// assert!(!is_compressible_by_default("application/zip"));
/// ```
pub fn is_compressible_by_default(essence: &str) -> bool {
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    match kind {
        "text" => true,
        "application" => {
            matches!(
                subtype,
                "json"
                    | "javascript"
                    | "ecmascript"
                    | "x-javascript"
                    | "xml"
                    | "x-ndjson"
                    | "ndjson"
                    | "wasm"
                    | "graphql"
                    | "vnd.ms-fontobject"
                    | "x-font-ttf"
                    | "x-www-form-urlencoded"
            ) || subtype.ends_with("+json")
                || subtype.ends_with("+xml")
        }
        "image" => subtype == "svg+xml" || subtype == "x-icon" || subtype == "vnd.microsoft.icon" || subtype == "bmp",
        "font" => subtype == "ttf" || subtype == "otf",
        _ => false,
    }
}
