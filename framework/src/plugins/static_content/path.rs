//! Turning the segments of a request path into a file under the root, refusing every way out of it.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// A file found under the root: its canonical path and metadata.
#[derive(Debug)]
pub(super) struct Found {
    pub(super) path: PathBuf,
    pub(super) metadata: Metadata,
}

/// Checks one decoded segment: `.`, `..`, and segments holding `/`, `\`, NUL or `:` (drive letters, Windows
/// streams) are refused with a 400 — no file name a static site needs looks like that.
pub(super) fn check_segment(segment: &str) -> Result<()> {
    let bad = segment == "."
        || segment == ".."
        || segment.contains(['/', '\\', '\0', ':'])
        || segment.chars().any(char::is_control);
    if bad {
        return Err(Error::bad_request(format!("invalid path segment {segment:?} for static content")));
    }
    Ok(())
}

/// The joined, checked relative path of `segments` (empty segments skipped).
pub(super) fn relative<'a>(segments: impl Iterator<Item = &'a str>) -> Result<PathBuf> {
    let mut path = PathBuf::new();
    for segment in segments.filter(|segment| !segment.is_empty()) {
        check_segment(segment)?;
        path.push(segment);
    }
    Ok(path)
}

/// The regular file at `candidate`, canonicalized, if it exists and stays under `root` (symlinks followed,
/// then checked); `None` otherwise.
pub(super) async fn file_under(root: &Path, candidate: &Path) -> Option<Found> {
    let path = tokio::fs::canonicalize(candidate).await.ok()?;
    if !path.starts_with(root) {
        return None;
    }
    let metadata = tokio::fs::metadata(&path).await.ok()?;
    metadata.is_file().then_some(Found { path, metadata })
}

/// The file `relative` names under `root`, or the index file of the directory it names.
pub(super) async fn resolve(root: &Path, relative: &Path, index: Option<&str>) -> Option<Found> {
    let candidate = root.join(relative);
    let path = tokio::fs::canonicalize(&candidate).await.ok()?;
    if !path.starts_with(root) {
        return None;
    }
    let metadata = tokio::fs::metadata(&path).await.ok()?;
    if metadata.is_file() {
        return Some(Found { path, metadata });
    }
    if metadata.is_dir() {
        return file_under(root, &path.join(index?)).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_segments_are_refused() {
        for bad in ["..", ".", "a/b", "a\\b", "a\0b", "C:", "c:secret", "line\nbreak"] {
            assert!(check_segment(bad).is_err(), "{bad:?}");
        }
        for good in ["index.html", "..hidden", "a..b", "file name.txt", "ünïcode"] {
            assert!(check_segment(good).is_ok(), "{good:?}");
        }
        assert_eq!(relative(["a", "", "b"].into_iter()).unwrap(), Path::new("a/b"));
    }
}
