//! `StaticContentConfig` and `CompressedFileType`.

/// A precompressed sibling a static file may have (`app.js.br`, `app.js.gz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressedFileType {
    /// `.br`, `Content-Encoding: br`.
    Brotli,
    /// `.gz`, `Content-Encoding: gzip`.
    Gzip,
}

impl CompressedFileType {
    /// The file extension, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            CompressedFileType::Brotli => ".br",
            CompressedFileType::Gzip => ".gz",
        }
    }

    /// The content coding (`Content-Encoding` / `Accept-Encoding` token).
    pub fn coding(self) -> &'static str {
        match self {
            CompressedFileType::Brotli => "br",
            CompressedFileType::Gzip => "gzip",
        }
    }
}

/// How [`static_files_with`](super::StaticFiles::static_files_with) serves a directory.
#[derive(Clone, Debug)]
pub struct StaticContentConfig {
    pub(super) index: Option<String>,
    pub(super) spa: Option<String>,
    pub(super) precompressed: Vec<CompressedFileType>,
}

impl Default for StaticContentConfig {
    fn default() -> Self {
        StaticContentConfig { index: Some("index.html".to_owned()), spa: None, precompressed: Vec::new() }
    }
}

impl StaticContentConfig {
    /// The file served for a directory (default `index.html`); `None` serves nothing for directories.
    pub fn index(&mut self, file: Option<&str>) -> &mut Self {
        self.index = file.map(str::to_owned);
        self
    }

    /// Single-page application: a path under the route that names no file answers with this file (relative
    /// to the directory, usually `index.html`), so a client-side router sees every URL.
    pub fn spa(&mut self, file: &str) -> &mut Self {
        self.spa = Some(file.to_owned());
        self
    }

    /// Serves a precompressed sibling (`name.br`, `name.gz`) when the client accepts its coding, trying the
    /// types in the order given; such answers carry `Content-Encoding`, and every answer `Vary: Accept-Encoding`.
    pub fn precompressed(&mut self, types: impl IntoIterator<Item = CompressedFileType>) -> &mut Self {
        self.precompressed = types.into_iter().collect();
        self
    }
}
