//! The ContentNegotiation plugin: values sent and received in the media type the client asks for (JSON and
//! any format a [`ContentConverter`] provides).

mod config;
mod converter;
mod incoming;
mod json;
mod negotiate;

use std::future::Future;
use std::sync::Arc;

use std::cell::RefCell;

use http::HeaderValue;
use http::header::{ACCEPT, VARY};
use serde::Serialize;
use serde::de::DeserializeOwned;
use smallvec::SmallVec;

use crate::call::{ApplicationRequest, visible_ascii};

pub use config::ContentNegotiationConfig;
pub use converter::{ContentConverter, IncomingTarget, OutgoingValue};
pub use incoming::IncomingContent;
pub use json::JsonConverter;

use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationSendPipeline, OutgoingContent, ResponseValue};
use crate::pipeline::in_place;
use crate::{Error, Result};
use converter::Outgoing;

/// Sends and receives values in the media type the client asks for (Ktor's `ContentNegotiation`; axum's and
/// actix-web's `Json`, with negotiation).
///
/// **Responding.** Wrap the value: `call.respond(Negotiate::new(value))`, or `call.respond_negotiated(value)`
/// with [`NegotiateExt`] in scope. Any `Serialize` value works. The media type is the registered one the
/// `Accept` header gives the highest quality (the most specific range decides: `application/json`, then
/// `application/*`, then `*/*`; `q=0` refuses), ties going to the earlier registered; without `Accept`, the
/// first registered. If no registered type is acceptable, or none of the acceptable converters serializes this
/// type, the answer is 406. With more than one converter, responses get `Vary: Accept`.
///
/// **Receiving.** `call.receive_negotiated::<T>()` with [`NegotiateExt`], for any `DeserializeOwned` `T`; or
/// plain `call.receive::<T>()` for the types registered with
/// [`receive_type`](ContentNegotiationConfig::receive_type) (a table keyed by `TypeId`, built at install: Rust
/// cannot find a deserializer for an arbitrary `T` at run time). The converter is chosen by `Content-Type`
/// (parameters such as `charset` go to the converter; `application/problem+json` is read by the
/// `application/json` converter). A body of a type no converter reads is refused with 415, and so is a body
/// without `Content-Type`, as axum and actix-web do, unless a
/// [default](ContentNegotiationConfig::default_content_type) is configured. A body that does not parse is a 400
/// whose message is serde's, with the line and column. The receive pipeline runs as usual, so request
/// decompression, DoubleReceive and RequestBodyLimit apply.
///
/// With the default configuration (`Default::default()`), JSON is registered; registering converters yourself
/// replaces that default.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::content_negotiation::{ContentNegotiation, NegotiateExt};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct User { id: u64, name: String }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.install(ContentNegotiation, Default::default());
///     app.routing(|r| {
///         r.post("/users", |call: ApplicationCall| async move {
///             let mut user: User = call.receive_negotiated().await?;
///             user.id = 7;
///             call.respond_negotiated(user).await
///         });
///     });
/// })
/// .await;
/// let res = app.client().post("/users").header("content-type", "application/json").text(r#"{"id":0,"name":"Ada"}"#).send().await;
/// assert_eq!(res.header("content-type"), Some("application/json"));
/// assert_eq!(res.text().await, r#"{"id":7,"name":"Ada"}"#);
///
/// let res = app.client().post("/users").header("content-type", "application/json").text(r#"{"id":0,"#).send().await;
/// assert_eq!(res.status(), 400);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ContentNegotiation;

/// A value to respond with in the negotiated media type: `call.respond(Negotiate::new(value))`.
///
/// It holds the value type-erased (with its serializer), so that the plugin, which cannot name `T`, can
/// serialize it.
pub struct Negotiate {
    value: Box<dyn OutgoingValue>,
}

impl Negotiate {
    /// Wraps a serializable value.
    ///
    /// ```
    /// use rotor::plugins::content_negotiation::Negotiate;
    ///
    /// let value = Negotiate::new(vec![1, 2, 3]);
    /// assert_eq!(value.type_name(), "alloc::vec::Vec<i32>");
    /// ```
    pub fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Negotiate { value: Box::new(Outgoing(value)) }
    }

    /// The name of the wrapped value's type.
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }

    /// The wrapped value, type-erased.
    pub fn value(&self) -> &dyn OutgoingValue {
        &*self.value
    }
}

impl std::fmt::Debug for Negotiate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Negotiate").field(&self.value.type_name()).finish()
    }
}

/// Content negotiation as methods of [`ApplicationCall`].
pub trait NegotiateExt {
    /// Responds with `value` in the media type the client accepts best (406 if none).
    ///
    /// # Errors
    /// As [`ApplicationCall::respond`], and 406 as above.
    fn respond_negotiated<T>(&self, value: T) -> impl Future<Output = Result<()>> + Send
    where
        T: Serialize + Send + Sync + 'static;

    /// Receives the body as a `T`, read by the converter of its `Content-Type`.
    ///
    /// # Errors
    /// 415 for a media type no converter reads (or none), 400 for a body that does not parse.
    fn receive_negotiated<T>(&self) -> impl Future<Output = Result<T>> + Send
    where
        T: DeserializeOwned + Send + 'static;
}

impl NegotiateExt for ApplicationCall {
    fn respond_negotiated<T>(&self, value: T) -> impl Future<Output = Result<()>> + Send
    where
        T: Serialize + Send + Sync + 'static,
    {
        self.respond(Negotiate::new(value))
    }

    async fn receive_negotiated<T>(&self) -> Result<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.receive::<IncomingContent>().await?.deserialize::<T>()
    }
}

const VARY_ACCEPT: HeaderValue = HeaderValue::from_static("accept");

impl Plugin for ContentNegotiation {
    type Config = ContentNegotiationConfig;
    type Instance = ContentNegotiationConfig;

    fn key(&self) -> &'static str {
        "ContentNegotiation"
    }

    fn install(
        &self,
        plugin: &mut PluginBuilder<'_>,
        mut config: ContentNegotiationConfig,
    ) -> Result<Arc<ContentNegotiationConfig>> {
        config.finish();
        let config = Arc::new(config);
        let respond = Arc::clone(&config);
        // Rendering never waits: a sync interceptor, with no future to box per response.
        plugin.pipeline_mut().send_pipeline_mut().add_interceptor(
            &ApplicationSendPipeline::TRANSFORM,
            in_place(move |subject, call| render(subject, call, &respond)),
        )?;
        let receive = Arc::clone(&config);
        plugin.on_call_receive(move |ctx| incoming::receive(ctx, Arc::clone(&receive)));
        Ok(config)
    }
}

/// The registered media types `Accept` allows, as (quality, registration index), best first, ties to the earlier
/// registered; inline for up to four registered media types, so that negotiating takes no allocation.
type Candidates = SmallVec<[(f32, usize); 4]>;

thread_local! {
    /// The last negotiation of this thread with a single `Accept` field: the configuration's id, the field, and
    /// the candidates. Clients send the same `Accept` on every request, so most negotiations are this one again.
    static LAST_NEGOTIATION: RefCell<(u64, Vec<u8>, Candidates)> = RefCell::new((0, Vec::new(), SmallVec::new()));
}

/// The candidates for the `Accept` fields of `request` (read where they lie: no header map is built).
fn candidates(request: &ApplicationRequest, config: &ContentNegotiationConfig) -> Candidates {
    // (A configuration that was never installed has id 0, and is not cached.)
    let cacheable = config.id != 0;
    let single = request.request_headers().only(&ACCEPT);
    let Some(single) = single.filter(|value| cacheable && value.len() <= MAX_CACHED_ACCEPT) else {
        return negotiate_candidates(&request.header_values(&ACCEPT).collect::<SmallVec<[_; 4]>>(), config);
    };
    LAST_NEGOTIATION.with(|last| {
        let mut last = last.borrow_mut();
        let (id, field, candidates) = &mut *last;
        if *id != config.id || field.as_slice() != single {
            *candidates = negotiate_candidates(&[single], config);
            *id = config.id;
            field.clear();
            field.extend_from_slice(single);
        }
        candidates.clone()
    })
}

/// The longest `Accept` field the per-thread cache keeps (a longer one is negotiated every time).
const MAX_CACHED_ACCEPT: usize = 1024;

/// The candidates for the `Accept` fields `accept`, worked out.
fn negotiate_candidates(accept: &[&[u8]], config: &ContentNegotiationConfig) -> Candidates {
    // Fields that are not visible ASCII are ignored.
    let values: SmallVec<[&str; 4]> = accept.iter().filter_map(|value| visible_ascii(value)).collect();
    let mut candidates: Candidates = config
        .registrations
        .iter()
        .enumerate()
        .map(|(index, registration)| (negotiate::quality(values.iter().copied(), &registration.media), index))
        .filter(|(quality, _)| *quality > 0.0)
        .collect();
    if candidates.len() > 1 {
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    candidates
}

/// Turns a [`Negotiate`] value into content of the negotiated media type.
fn render(subject: &mut ResponseValue, call: &ApplicationCall, config: &ContentNegotiationConfig) -> Result<()> {
    let Some(negotiate) = subject.take::<Negotiate>() else { return Ok(()) };
    let request = call.request();
    let candidates = candidates(request, config);
    for (_, index) in candidates {
        let registration = &config.registrations[index];
        if let Some(bytes) = registration.converter.serialize(negotiate.value(), &registration.media)? {
            let mut content = OutgoingContent::text_as(bytes, registration.content_type.clone());
            if config.registrations.len() > 1 {
                content.headers_mut().append(VARY, VARY_ACCEPT);
            }
            *subject = ResponseValue::from(content);
            return Ok(());
        }
    }
    Err(Error::not_acceptable(format!(
        "cannot respond with a `{}` in a media type the request accepts (Accept: {}); this server can send {}",
        negotiate.type_name(),
        request.header_values(&ACCEPT).next().and_then(visible_ascii).unwrap_or("(none)"),
        config.offered()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(media: &[&str]) -> ContentNegotiationConfig {
        let mut config = ContentNegotiationConfig::default();
        for media in media {
            config.register(media.parse().unwrap(), JsonConverter);
        }
        config.finish();
        config
    }

    /// A request with `values` as its `Accept` fields, given as parsed (no map), as rotor-cio gives them.
    fn accepting(values: &[&'static str]) -> ApplicationRequest {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        let mut fields = Vec::new();
        for value in values {
            head.extend_from_slice(b"Accept: ");
            fields.push((ACCEPT, head.len()..head.len() + value.len()));
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        let headers = crate::call::RequestHeaders::from_raw(head.into(), fields);
        let uri = http::Uri::from_static("/");
        ApplicationRequest::from_head(http::Method::GET, uri, http::Version::HTTP_11, headers, None, None)
    }

    #[test]
    fn the_cached_negotiation_is_redone_for_another_accept_or_configuration() {
        let both = config(&["application/json", "text/csv"]);
        let json_only = config(&["application/json"]);
        let csv_first = accepting(&["text/csv, application/json;q=0.5"]);
        let json_first = accepting(&["text/csv;q=0.1, application/json"]);
        for _ in 0..2 {
            assert_eq!(candidates(&csv_first, &both).as_slice(), [(1.0, 1), (0.5, 0)]);
            assert_eq!(candidates(&csv_first, &both).as_slice(), [(1.0, 1), (0.5, 0)]);
            assert_eq!(candidates(&csv_first, &json_only).as_slice(), [(0.5, 0)]);
            assert_eq!(candidates(&json_first, &json_only).as_slice(), [(1.0, 0)]);
            assert_eq!(candidates(&json_first, &both).as_slice(), [(1.0, 0), (0.1, 1)]);
            // Several fields, and none, are not cached.
            let split = accepting(&["text/csv;q=0.2", "application/json;q=0.3"]);
            assert_eq!(candidates(&split, &both).as_slice(), [(0.3, 0), (0.2, 1)]);
            assert_eq!(candidates(&accepting(&[]), &both).as_slice(), [(1.0, 0), (1.0, 1)]);
            assert!(!split.request_headers().is_map_built(), "the fields are read where they lie");
        }
    }
}
