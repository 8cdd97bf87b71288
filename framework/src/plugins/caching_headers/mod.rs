//! `CachingHeaders`: `Cache-Control` and `Expires` by content type, by route, or by any rule of your own
//! (Ktor's `CachingHeaders`).
//!
//! Providers are asked in order for each response; the first that answers gives its options. A
//! `Cache-Control` or `Expires` the handler already set (on the response or on its content) is never
//! overridden. Install it on the application, or on a route for that route's responses; installed on both,
//! the route's options replace the application's (the most specific wins). Directive values are
//! formatted once, when the options are made; only a relative `Expires` is formatted per response (httpdate).
//!
//! It runs in its own send phase right after Render, before
//! [`ConditionalHeaders`](super::conditional_headers), so a 304 keeps the `Cache-Control` it adds.
//!
//! ```
//! use rotor::prelude::*;
//! use rotor::plugins::caching_headers::{CacheControl, CachingHeaders, CachingOptions, Visibility};
//!
//! fn module(app: &mut Application) {
//!     app.install_with(CachingHeaders, |config| {
//!         config.content_type("text/css", CachingOptions::new(CacheControl::max_age(3600)));
//!     });
//!     app.routing(|r| {
//!         r.get("/site.css", |call: ApplicationCall| async move {
//!             call.respond_bytes("body{}", rotor::http::HeaderValue::from_static("text/css")).await
//!         });
//!         r.route("/private", |r| {
//!             r.install_with(CachingHeaders, |config| {
//!                 config.options(|_call, _content| {
//!                     Some(CachingOptions::new(CacheControl::no_cache().visibility(Visibility::Private)))
//!                 });
//!             });
//!             r.get("/me", |call: ApplicationCall| async move { call.respond_text("me").await });
//!         });
//!     });
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let app = rotor_test::test_application(module).await;
//! let css = app.client().get("/site.css").send().await;
//! assert_eq!(css.header("cache-control"), Some("max-age=3600"));
//! let me = app.client().get("/private/me").send().await;
//! assert_eq!(me.header("cache-control"), Some("private, no-cache"));
//! # });
//! ```

mod config;
mod options;

use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderValue;
use http::header::{CACHE_CONTROL, EXPIRES};

pub use config::CachingHeadersConfig;
use options::Expires;
pub use options::{CacheControl, CachingOptions, Visibility};

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationSendPipeline, AttributeKey, SendContext};
use crate::pipeline::PipelinePhase;

/// The plugin: install it with `install_with(CachingHeaders, |config| …)` on the application or a route. See
/// the [module documentation](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct CachingHeaders;

impl CachingHeaders {
    /// The send-pipeline phase it runs in, inserted right after Render.
    pub const PHASE: PipelinePhase = PipelinePhase::new("CachingHeaders");
}

impl Plugin for CachingHeaders {
    type Config = CachingHeadersConfig;
    type Instance = CachingHeadersConfig;

    fn key(&self) -> &'static str {
        "CachingHeaders"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: Self::Config) -> Result<Arc<Self::Instance>> {
        let config = Arc::new(config);
        let shared = Arc::clone(&config);
        let send = plugin.pipeline_mut().send_pipeline_mut();
        send.try_insert_phase_after(&ApplicationSendPipeline::RENDER, Self::PHASE)?;
        send.add_interceptor(&Self::PHASE, crate::pipeline::sync(move |ctx: &SendContext| apply(&shared, ctx)))?;
        Ok(config)
    }
}

fn apply(config: &CachingHeadersConfig, ctx: &SendContext) -> Result<()> {
    let call = ctx.call();
    let mut subject = ctx.subject();
    let Some(content) = subject.content_mut() else { return Ok(()) };
    // What an outer installation (the application's) set may be replaced by an inner one (the route's).
    let ours = call.attributes().get(&SET_BY_PLUGIN).copied().unwrap_or_default();
    let (has_cache_control, has_expires) = {
        let response = call.response();
        let headers = response.headers();
        (
            !ours.cache_control
                && (headers.contains_key(CACHE_CONTROL) || content.headers().contains_key(CACHE_CONTROL)),
            !ours.expires && (headers.contains_key(EXPIRES) || content.headers().contains_key(EXPIRES)),
        )
    };
    if has_cache_control && has_expires {
        return Ok(());
    }
    let Some(options) = config.providers.iter().find_map(|provider| provider(call, content)) else { return Ok(()) };
    let mut set = ours;
    if let (false, Some(value)) = (has_cache_control, options.cache_control) {
        content.headers_mut().insert(CACHE_CONTROL, value);
        set.cache_control = true;
    }
    if !has_expires && options.expires.is_some() {
        set.expires = true;
        let value = match options.expires {
            Some(Expires::At(value)) => Some(value),
            Some(Expires::In(after)) => HeaderValue::try_from(httpdate::fmt_http_date(SystemTime::now() + after)).ok(),
            None => None,
        };
        if let Some(value) = value {
            content.headers_mut().insert(EXPIRES, value);
        }
    }
    if set != ours {
        call.attributes().put(&SET_BY_PLUGIN, set);
    }
    Ok(())
}

/// Which caching headers an installation of this plugin set on the call's response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SetByPlugin {
    cache_control: bool,
    expires: bool,
}

const SET_BY_PLUGIN: AttributeKey<SetByPlugin> = AttributeKey::new("CachingHeaders.Set");
