//! `ContentNegotiationConfig`: the converters by media type, and the types `receive::<T>()` can produce.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderValue;
use mime::Mime;
use serde::de::DeserializeOwned;

use super::{ContentConverter, IncomingContent, JsonConverter};
use crate::Result;
use crate::call::ReceiveRequest;

/// Deserializes an [`IncomingContent`] into the registered type and stores it in the receive request.
pub(crate) type Decode = fn(&IncomingContent, &mut ReceiveRequest) -> Result<()>;

pub(crate) struct Registration {
    pub(crate) media: Mime,
    pub(crate) content_type: HeaderValue,
    pub(crate) converter: Arc<dyn ContentConverter>,
}

/// The configuration of [`ContentNegotiation`](super::ContentNegotiation).
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::content_negotiation::{ContentNegotiation, JsonConverter};
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: u64 }
///
/// let mut app = Application::default();
/// app.install_with(ContentNegotiation, |config| {
///     config.register(mime::APPLICATION_JSON, JsonConverter);
///     config.receive_type::<Order>(); // now `call.receive::<Order>()` works too
///     config.default_content_type(Some(mime::APPLICATION_JSON)); // a body without Content-Type is JSON
/// });
/// app.routing(|r| {
///     r.post("/orders", |call: ApplicationCall| async move {
///         let order = call.receive::<Order>().await?;
///         call.respond_text(format!("order {}", order.id)).await
///     });
/// });
/// ```
#[derive(Default)]
pub struct ContentNegotiationConfig {
    pub(crate) registrations: Vec<Registration>,
    pub(crate) receivable: HashMap<TypeId, Decode>,
    pub(crate) default_content_type: Option<Mime>,
    offered: String,
    /// Tells installed configurations apart (for the per-thread cache of the last negotiation); set at install.
    pub(crate) id: u64,
}

/// The id of the next configuration installed.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl fmt::Debug for ContentNegotiationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let media: Vec<&str> = self.registrations.iter().map(|registration| registration.media.as_ref()).collect();
        f.debug_struct("ContentNegotiationConfig")
            .field("media_types", &media)
            .field("receivable_types", &self.receivable.len())
            .field("default_content_type", &self.default_content_type.as_ref().map(Mime::as_ref))
            .finish()
    }
}

/// Media types whose `Content-Type` value is a static string: a response shares it without the reference count
/// (two locked read-modify-writes) a value copied from the `Mime` costs per response.
const STATIC_CONTENT_TYPES: [&str; 6] = [
    "application/json",
    "application/json; charset=utf-8",
    "application/xml",
    "text/plain; charset=utf-8",
    "text/html; charset=utf-8",
    "text/csv",
];

/// The `Content-Type` value responses of `media_type` carry.
fn content_type_value(media_type: &Mime) -> HeaderValue {
    match STATIC_CONTENT_TYPES.iter().find(|known| **known == media_type.as_ref()) {
        Some(known) => HeaderValue::from_static(known),
        None => HeaderValue::from_str(media_type.as_ref())
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    }
}

impl ContentNegotiationConfig {
    /// Registers `converter` for `media_type` (`application/json`, `text/csv; charset=utf-8`…), after the
    /// ones registered before (earlier wins ties in negotiation). Responses carry `media_type` as their
    /// `Content-Type`, parameters included; requests are matched on its `type/subtype`. Registering the same
    /// `type/subtype` again replaces the converter in place.
    pub fn register(&mut self, media_type: Mime, converter: impl ContentConverter) -> &mut Self {
        let content_type = content_type_value(&media_type);
        let registration = Registration { media: media_type, content_type, converter: Arc::new(converter) };
        let existing = self
            .registrations
            .iter_mut()
            .find(|existing| existing.media.essence_str() == registration.media.essence_str());
        match existing {
            Some(existing) => *existing = registration,
            None => self.registrations.push(registration),
        }
        self
    }

    /// Makes `call.receive::<T>()` read the body with the converter of its `Content-Type`, as
    /// `receive_negotiated::<T>()` does.
    pub fn receive_type<T: DeserializeOwned + Send + 'static>(&mut self) -> &mut Self {
        self.receivable.insert(TypeId::of::<T>(), decode_into::<T>);
        self
    }

    /// The media type a request body without `Content-Type` is read as; `None` (the default) refuses such a
    /// body with 415.
    pub fn default_content_type(&mut self, media_type: Option<Mime>) -> &mut Self {
        self.default_content_type = media_type;
        self
    }

    /// Completes the configuration at install: JSON when nothing is registered, the list for messages.
    pub(crate) fn finish(&mut self) {
        if self.registrations.is_empty() {
            self.register(mime::APPLICATION_JSON, JsonConverter);
        }
        let media: Vec<&str> = self.registrations.iter().map(|registration| registration.media.as_ref()).collect();
        self.offered = media.join(", ");
        self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// The registered media types, for messages.
    pub(crate) fn offered(&self) -> &str {
        &self.offered
    }
}

fn decode_into<T: DeserializeOwned + Send + 'static>(
    content: &IncomingContent,
    request: &mut ReceiveRequest,
) -> Result<()> {
    request.set_value(content.deserialize::<T>()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_content_types_are_static_and_others_are_copied_as_they_are() {
        let json = content_type_value(&mime::APPLICATION_JSON);
        assert_eq!(json, "application/json");
        assert_eq!(json.as_bytes().as_ptr(), STATIC_CONTENT_TYPES[0].as_ptr(), "the static string, shared");
        let custom: Mime = "application/vnd.rotor+json; version=2".parse().unwrap();
        assert_eq!(content_type_value(&custom), "application/vnd.rotor+json; version=2");
    }
}
