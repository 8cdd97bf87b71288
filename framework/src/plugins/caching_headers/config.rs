//! `CachingHeadersConfig`: the providers of caching options.

use std::fmt;
use std::sync::Arc;

use super::CachingOptions;
use crate::call::{ApplicationCall, OutgoingContent};

type Provider = Arc<dyn Fn(&ApplicationCall, &OutgoingContent) -> Option<CachingOptions> + Send + Sync>;

/// The configuration of [`CachingHeaders`](super::CachingHeaders): providers asked, in order, for the options
/// of each response.
#[derive(Clone, Default)]
pub struct CachingHeadersConfig {
    pub(super) providers: Vec<Provider>,
}

impl CachingHeadersConfig {
    /// Adds a provider (Ktor's `options { call, content -> … }`): `None` leaves the response to the next one.
    pub fn options<F>(&mut self, provider: F) -> &mut Self
    where
        F: Fn(&ApplicationCall, &OutgoingContent) -> Option<CachingOptions> + Send + Sync + 'static,
    {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Adds a provider that gives `options` to responses whose content type is `content_type` (`text/css`) or
    /// falls under it (`image/*`, `*/*`); parameters such as `charset` are not compared.
    ///
    /// # Panics
    /// If `content_type` is not `type/subtype`.
    pub fn content_type(&mut self, content_type: &str, options: CachingOptions) -> &mut Self {
        let (kind, subtype) = content_type
            .split_once('/')
            .map(|(kind, subtype)| (kind.trim().to_ascii_lowercase(), subtype.trim().to_ascii_lowercase()))
            .unwrap_or_else(|| panic!("invalid content type {content_type:?}: expected type/subtype"));
        self.options(move |_call, content| {
            let value = content.content_type()?.to_str().ok()?;
            let essence = value.split(';').next()?.trim();
            let (have_kind, have_subtype) = essence.split_once('/')?;
            let kind_matches = kind == "*" || have_kind.eq_ignore_ascii_case(&kind);
            let subtype_matches = subtype == "*" || have_subtype.eq_ignore_ascii_case(&subtype);
            (kind_matches && subtype_matches).then(|| options.clone())
        })
    }
}

impl fmt::Debug for CachingHeadersConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingHeadersConfig").field("providers", &self.providers.len()).finish()
    }
}
