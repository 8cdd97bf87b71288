//! `CacheControl`, `Visibility` and `CachingOptions`: what a response may be cached for.

use std::time::{Duration, SystemTime};

use http::HeaderValue;

/// Who may cache a response: `public` (shared caches too) or `private` (the user's own cache only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// `public`.
    Public,
    /// `private`.
    Private,
}

/// A `Cache-Control` directive set (Ktor's `CacheControl`), formatted once when it is made.
///
/// ```
/// use rotor::plugins::caching_headers::{CacheControl, Visibility};
///
/// let control = CacheControl::max_age(3600).visibility(Visibility::Public).must_revalidate();
/// assert_eq!(control.to_string(), "public, max-age=3600, must-revalidate");
/// assert_eq!(CacheControl::no_store().to_string(), "no-store");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheControl {
    kind: Kind,
    visibility: Option<Visibility>,
    proxy_max_age: Option<u64>,
    must_revalidate: bool,
    proxy_revalidate: bool,
    immutable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    NoCache,
    NoStore,
    MaxAge(u64),
}

impl CacheControl {
    fn of(kind: Kind) -> Self {
        CacheControl {
            kind,
            visibility: None,
            proxy_max_age: None,
            must_revalidate: false,
            proxy_revalidate: false,
            immutable: false,
        }
    }

    /// `no-cache`: store, but revalidate before every use.
    pub fn no_cache() -> Self {
        Self::of(Kind::NoCache)
    }

    /// `no-store`: never store.
    pub fn no_store() -> Self {
        Self::of(Kind::NoStore)
    }

    /// `max-age=<seconds>`.
    pub fn max_age(seconds: u64) -> Self {
        Self::of(Kind::MaxAge(seconds))
    }

    /// Adds `public` or `private`.
    #[must_use]
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Adds `s-maxage=<seconds>` (shared caches).
    #[must_use]
    pub fn proxy_max_age(mut self, seconds: u64) -> Self {
        self.proxy_max_age = Some(seconds);
        self
    }

    /// Adds `must-revalidate`.
    #[must_use]
    pub fn must_revalidate(mut self) -> Self {
        self.must_revalidate = true;
        self
    }

    /// Adds `proxy-revalidate`.
    #[must_use]
    pub fn proxy_revalidate(mut self) -> Self {
        self.proxy_revalidate = true;
        self
    }

    /// Adds `immutable` (fingerprinted assets that never change).
    #[must_use]
    pub fn immutable(mut self) -> Self {
        self.immutable = true;
        self
    }
}

impl std::fmt::Display for CacheControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match self.visibility {
            Some(Visibility::Public) => parts.push("public".into()),
            Some(Visibility::Private) => parts.push("private".into()),
            None => {}
        }
        match self.kind {
            Kind::NoCache => parts.push("no-cache".into()),
            Kind::NoStore => parts.push("no-store".into()),
            Kind::MaxAge(seconds) => parts.push(format!("max-age={seconds}")),
        }
        if let Some(seconds) = self.proxy_max_age {
            parts.push(format!("s-maxage={seconds}"));
        }
        if self.must_revalidate {
            parts.push("must-revalidate".into());
        }
        if self.proxy_revalidate {
            parts.push("proxy-revalidate".into());
        }
        if self.immutable {
            parts.push("immutable".into());
        }
        f.write_str(&parts.join(", "))
    }
}

/// When a response expires (`Expires`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Expires {
    /// A fixed date, formatted once.
    At(HeaderValue),
    /// A time after the response is made, formatted per response.
    In(Duration),
}

/// What a response may be cached for: `Cache-Control` and `Expires` (Ktor's `CachingOptions`).
///
/// ```
/// use std::time::Duration;
/// use rotor::plugins::caching_headers::{CacheControl, CachingOptions};
///
/// let options = CachingOptions::new(CacheControl::max_age(60)).expires_in(Duration::from_secs(60));
/// assert_eq!(options.cache_control().unwrap(), "max-age=60");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CachingOptions {
    pub(super) cache_control: Option<HeaderValue>,
    pub(super) expires: Option<Expires>,
}

impl CachingOptions {
    /// Options with this `Cache-Control`.
    pub fn new(cache_control: CacheControl) -> Self {
        CachingOptions { cache_control: HeaderValue::try_from(cache_control.to_string()).ok(), expires: None }
    }

    /// Options with only an `Expires` date.
    pub fn expires(at: SystemTime) -> Self {
        CachingOptions::default().expires_at(at)
    }

    /// Adds `Expires` at a fixed date.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires = HeaderValue::try_from(httpdate::fmt_http_date(at)).ok().map(Expires::At);
        self
    }

    /// Adds `Expires` at `after` from the moment each response is made.
    #[must_use]
    pub fn expires_in(mut self, after: Duration) -> Self {
        self.expires = Some(Expires::In(after));
        self
    }

    /// The `Cache-Control` value, if any.
    pub fn cache_control(&self) -> Option<&HeaderValue> {
        self.cache_control.as_ref()
    }
}
