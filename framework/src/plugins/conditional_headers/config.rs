//! `ConditionalHeadersConfig` and `Version`: where the validators of a response come from.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use super::EntityTag;
use crate::call::{ApplicationCall, OutgoingContent};

/// A validator of a representation: an entity tag or a last-modification date (Ktor's `Version`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    /// An entity tag, sent as `ETag`.
    EntityTag(EntityTag),
    /// A last-modification date, sent as `Last-Modified` (HTTP dates have whole seconds).
    LastModified(SystemTime),
}

type VersionProvider = Arc<dyn Fn(&ApplicationCall, &OutgoingContent) -> Vec<Version> + Send + Sync>;

/// The configuration of [`ConditionalHeaders`](super::ConditionalHeaders).
///
/// A response's validators are its content's own `ETag` / `Last-Modified` headers, else the response headers
/// a handler set, else what the version providers compute for the call (the first provider that gives an
/// entity tag gives `ETag`, the first that gives a date gives `Last-Modified`).
#[derive(Clone, Default)]
pub struct ConditionalHeadersConfig {
    pub(super) providers: Vec<VersionProvider>,
}

impl ConditionalHeadersConfig {
    /// Adds a provider of versions, asked for each response that has no `ETag` or no `Last-Modified` yet.
    pub fn version<F>(&mut self, provider: F) -> &mut Self
    where
        F: Fn(&ApplicationCall, &OutgoingContent) -> Vec<Version> + Send + Sync + 'static,
    {
        self.providers.push(Arc::new(provider));
        self
    }
}

impl fmt::Debug for ConditionalHeadersConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionalHeadersConfig").field("providers", &self.providers.len()).finish()
    }
}
