//! Static content: serving a directory under a route (Ktor's `staticFiles`).
//!
//! `route.static_files("/static", "public")` serves the files of `public` under `/static`: `GET` and `HEAD`,
//! `Content-Type` from the name (text types with `charset=utf-8`), a strong `ETag` (size and modification
//! time) and `Last-Modified` on every file (so [`ConditionalHeaders`](super::conditional_headers) answers 304
//! and 412), `index.html` for directories, and files streamed in 64 KiB chunks, opened only when the body is
//! read. [`static_files_with`](StaticFiles::static_files_with) configures a
//! [single-page-application fallback](StaticContentConfig::spa) and
//! [precompressed siblings](StaticContentConfig::precompressed) (`.br`, `.gz`, chosen by `Accept-Encoding`, with
//! `Content-Encoding` and `Vary`).
//!
//! Ranges: every file answer attaches a [`RangeSource`](super::partial_content::RangeSource) to the call, so
//! when [`PartialContent`](super::partial_content) is installed (on the application or the route) each range
//! is read straight from its offset in the file (a seek), not by reading and skipping what comes before.
//! Without `PartialContent` files are always sent whole.
//!
//! No path escapes the directory: it is canonicalized once when the route is made; each request's segments
//! (routing decodes each on its own, so `%2F` stays inside its segment) are refused with 400 when one is `.` or
//! `..` or holds `/`, `\`, NUL, `:` or a control character; the joined path is canonicalized (symlinks
//! followed) and answered only if it is still under the directory, else 404.
//!
//! ```
//! use rotor::prelude::*;
//! use rotor::plugins::static_content::StaticFiles;
//!
//! let dir = std::env::temp_dir().join(format!("rotor-static-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("hello.txt"), "hello").unwrap();
//!
//! let module = {
//!     let dir = dir.clone();
//!     move |app: &mut Application| {
//!         app.routing(|r| {
//!             r.static_files("/static", &dir);
//!             r.static_files_with("/app", &dir, |config| {
//!                 config.spa("hello.txt");
//!             });
//!         });
//!     }
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = rotor_test::test_application(module).await;
//! let res = app.client().get("/static/hello.txt").send().await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.header("content-type"), Some("text/plain; charset=utf-8"));
//! assert!(res.header("etag").is_some() && res.header("last-modified").is_some());
//! assert_eq!(res.text().await, "hello");
//! assert_eq!(app.client().get("/static/missing").send().await.status(), 404);
//! assert_eq!(app.client().get("/static/..%2Fsecret").send().await.status(), 400);
//! assert_eq!(app.client().get("/app/some/client/route").send().await.text().await, "hello");
//! # });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod config;
mod encoding;
mod file;
mod path;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::Method;

pub use config::{CompressedFileType, StaticContentConfig};

use crate::call::ApplicationCall;
use crate::routing::Route;
use crate::{Error, Result};

/// The name of the tailcard parameter the static routes capture the file path in.
const PATH_PARAMETER: &str = "static-path";
const TAILCARD: &str = "{static-path...}";

/// Serving directories on a route; implemented for [`Route`]. See the [module documentation](self).
pub trait StaticFiles {
    /// Serves the files of `dir` under `url`, with the default configuration.
    ///
    /// # Panics
    /// If `dir` cannot be canonicalized (it does not exist); [`try_static_files`](Self::try_static_files)
    /// returns the error instead.
    fn static_files(&mut self, url: &str, dir: impl AsRef<Path>) -> &mut Route;

    /// Serves the files of `dir` under `url`, configured by `configure`.
    ///
    /// # Panics
    /// As [`static_files`](Self::static_files), and if the single-page fallback file is not a file under `dir`.
    fn static_files_with(
        &mut self,
        url: &str,
        dir: impl AsRef<Path>,
        configure: impl FnOnce(&mut StaticContentConfig),
    ) -> &mut Route;

    /// Serves the files of `dir` under `url` with `config`.
    ///
    /// # Errors
    /// If `dir` cannot be canonicalized, or the single-page fallback file is not a file under it.
    fn try_static_files(&mut self, url: &str, dir: impl AsRef<Path>, config: StaticContentConfig)
    -> Result<&mut Route>;
}

impl StaticFiles for Route {
    fn static_files(&mut self, url: &str, dir: impl AsRef<Path>) -> &mut Route {
        self.static_files_with(url, dir, |_| {})
    }

    fn static_files_with(
        &mut self,
        url: &str,
        dir: impl AsRef<Path>,
        configure: impl FnOnce(&mut StaticContentConfig),
    ) -> &mut Route {
        let mut config = StaticContentConfig::default();
        configure(&mut config);
        match self.try_static_files(url, dir, config) {
            Ok(route) => route,
            Err(error) => panic!("{error}"),
        }
    }

    fn try_static_files(
        &mut self,
        url: &str,
        dir: impl AsRef<Path>,
        config: StaticContentConfig,
    ) -> Result<&mut Route> {
        let site = Arc::new(StaticSite::new(dir.as_ref(), config)?);
        // `/static/` serves the same as `/static`: the tailcard below matches with or without the slash.
        Ok(self.route(url.trim_end_matches('/'), |route| {
            for method in [Method::GET, Method::HEAD] {
                let site = Arc::clone(&site);
                route.on(method, TAILCARD, move |call| {
                    let site = Arc::clone(&site);
                    async move { site.serve(call).await }
                });
            }
        }))
    }
}

/// One served directory.
#[derive(Debug)]
struct StaticSite {
    root: PathBuf,
    config: StaticContentConfig,
    /// The single-page fallback, relative to the root, checked at install.
    spa: Option<PathBuf>,
    content_types: file::ContentTypes,
}

impl StaticSite {
    fn new(dir: &Path, config: StaticContentConfig) -> Result<Self> {
        let root = std::fs::canonicalize(dir).map_err(|error| {
            Error::internal(format!("static content: cannot use directory {}: {error}", dir.display()))
        })?;
        let spa = match &config.spa {
            Some(file) => {
                let path = std::fs::canonicalize(root.join(file)).ok().filter(|path| path.starts_with(&root));
                match path.and_then(|path| path.is_file().then_some(path)) {
                    Some(path) => Some(path.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(path)),
                    None => {
                        return Err(Error::internal(format!(
                            "static content: the `spa` file {file:?} is not a file under {}",
                            root.display()
                        )));
                    }
                }
            }
            None => None,
        };
        Ok(StaticSite { root, config, spa, content_types: file::ContentTypes::default() })
    }

    async fn serve(&self, call: ApplicationCall) -> Result<()> {
        let relative = {
            let parameters = call.parameters();
            // Path parameters come before query parameters of the same name; only the path's count.
            let from_query = call.request().query_parameters().get_all(PATH_PARAMETER).count();
            let from_path = parameters.get_all(PATH_PARAMETER).count().saturating_sub(from_query);
            path::relative(parameters.get_all(PATH_PARAMETER).take(from_path))?
        };
        let index = self.config.index.as_deref();
        let found = match path::resolve(&self.root, &relative, index).await {
            Some(found) => Some(found),
            None => match &self.spa {
                Some(spa) => path::file_under(&self.root, &self.root.join(spa)).await,
                None => None,
            },
        };
        let Some(found) = found else { return Ok(()) };
        let content_type = self.content_types.of(&found.path);
        let (file, coding) = self.precompressed(&call, &found.path).await;
        let file = file.unwrap_or(found);
        let vary = !self.config.precompressed.is_empty();
        call.respond(file::answer(&call, file, content_type, coding, vary)).await
    }

    /// The first acceptable precompressed sibling of `path`, if any.
    async fn precompressed(&self, call: &ApplicationCall, path: &Path) -> (Option<path::Found>, Option<&'static str>) {
        for kind in &self.config.precompressed {
            if !encoding::accepts(call.request().headers(), kind.coding()) {
                continue;
            }
            let mut sibling = path.as_os_str().to_owned();
            sibling.push(kind.extension());
            if let Some(found) = path::file_under(&self.root, Path::new(&sibling)).await {
                return (Some(found), Some(kind.coding()));
            }
        }
        (None, None)
    }
}
