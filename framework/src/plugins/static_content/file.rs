//! The answer for one file: a lazily opened, streamed body of exact length, its content type and validators,
//! and a [`RangeSource`] that reads ranges straight from their offsets.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};
use std::time::UNIX_EPOCH;

use futures_util::{StreamExt, TryStreamExt};
use http::HeaderValue;
use http::header::{CONTENT_ENCODING, ETAG, LAST_MODIFIED, VARY};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::path::Found;
use crate::call::{ApplicationCall, Body, OutgoingContent};
use crate::plugins::partial_content::{RangeSource, known_length};

const CHUNK: usize = 64 * 1024;
const ACCEPT_ENCODING_VARY: HeaderValue = HeaderValue::from_static("accept-encoding");

/// A body of `length` bytes of the file at `path` from `start`, opened on the first read (a HEAD answer
/// never opens it).
pub(super) fn file_body(path: PathBuf, start: u64, length: u64) -> Body {
    let stream = futures_util::stream::once(async move {
        let mut file = tokio::fs::File::open(&path).await?;
        if start > 0 {
            file.seek(SeekFrom::Start(start)).await?;
        }
        Ok::<_, std::io::Error>(ReaderStream::with_capacity(file.take(length), CHUNK))
    })
    .try_flatten()
    .boxed();
    known_length(Body::from_stream(stream), length)
}

/// `Content-Type` by file extension, computed once per extension and kept (up to a bound), so answering a
/// file formats no content type.
#[derive(Debug, Default)]
pub(super) struct ContentTypes {
    known: RwLock<HashMap<String, HeaderValue>>,
}

/// The most extensions [`ContentTypes`] remembers (a client cannot grow it: only existing files are typed).
const MAX_REMEMBERED: usize = 512;

impl ContentTypes {
    /// The content type of `name`.
    pub(super) fn of(&self, name: &Path) -> HeaderValue {
        let Some(extension) = name.extension().and_then(|extension| extension.to_str()) else {
            return OCTET_STREAM;
        };
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = known.get(extension) {
            return value.clone();
        }
        drop(known);
        let value = content_type(name);
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_REMEMBERED {
            known.insert(extension.to_owned(), value.clone());
        }
        value
    }
}

const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// `Content-Type` from the name (`text/*`, JavaScript, JSON and XML get `charset=utf-8`).
fn content_type(name: &Path) -> HeaderValue {
    let Some(mime) = mime_guess::from_path(name).first() else {
        return OCTET_STREAM;
    };
    let textual = mime.type_() == mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "xml")
        || mime.suffix().is_some_and(|suffix| suffix == mime::XML || suffix == mime::JSON);
    let text = if textual && mime.get_param(mime::CHARSET).is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::try_from(text).unwrap_or(OCTET_STREAM)
}

/// The answer for `file` (maybe a precompressed sibling with `coding`), typed by `name`.
pub(super) fn answer(
    call: &ApplicationCall,
    file: Found,
    content_type: HeaderValue,
    coding: Option<&'static str>,
    vary: bool,
) -> OutgoingContent {
    let length = file.metadata.len();
    let modified = file.metadata.modified().ok();
    let nanos = modified.and_then(|time| time.duration_since(UNIX_EPOCH).ok()).map_or(0, |since| since.as_nanos());
    let etag = HeaderValue::try_from(format!("\"{length:x}-{nanos:x}{}\"", coding.unwrap_or("")))
        .unwrap_or(HeaderValue::from_static("\"\""));
    let path = file.path;
    let source_path = path.clone();
    RangeSource::new(etag.clone(), length, move |start, length| file_body(source_path.clone(), start, length))
        .attach(call);
    let mut content = OutgoingContent::new(file_body(path, 0, length), Some(content_type));
    let headers = content.headers_mut();
    headers.insert(ETAG, etag);
    if let Some(modified) = modified {
        if let Ok(value) = HeaderValue::try_from(httpdate::fmt_http_date(modified)) {
            headers.insert(LAST_MODIFIED, value);
        }
    }
    if let Some(coding) = coding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if vary {
        headers.insert(VARY, ACCEPT_ENCODING_VARY);
    }
    content
}
