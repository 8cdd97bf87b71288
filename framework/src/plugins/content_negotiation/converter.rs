//! `ContentConverter`: turns values into bodies of a media type and back, and the type-erased values it works on.

use std::any::Any;
use std::fmt;

use bytes::Bytes;
use mime::Mime;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;

/// Serializes values into bodies of a media type and deserializes bodies into values (Ktor's
/// `ContentConverter`). Register one per media type in
/// [`ContentNegotiationConfig::register`](super::ContentNegotiationConfig::register).
///
/// Rust has no runtime reflection, so values reach a converter type-erased: an [`OutgoingValue`] to serialize,
/// an [`IncomingTarget`] to fill. A serde format writes through their serde bridge
/// ([`OutgoingValue::to_serde_value`], [`IncomingTarget::read_serde_value`]: any `Serialize` value, any
/// `DeserializeOwned` type); a converter for particular Rust types downcasts ([`OutgoingValue::as_any`],
/// [`IncomingTarget::set_any`]) and answers `Ok(None)` / `Ok(false)` for the types it does not handle.
///
/// ```
/// use rotor::bytes::Bytes;
/// use rotor::plugins::content_negotiation::{ContentConverter, ContentNegotiation, IncomingTarget, OutgoingValue};
///
/// /// `text/plain` for `String`s only.
/// #[derive(Debug)]
/// struct PlainText;
///
/// impl ContentConverter for PlainText {
///     fn serialize(&self, value: &dyn OutgoingValue, _media: &mime::Mime) -> rotor::Result<Option<Bytes>> {
///         Ok(value.as_any().downcast_ref::<String>().map(|text| Bytes::from(text.clone())))
///     }
///
///     fn deserialize(&self, body: Bytes, _media: &mime::Mime, target: &mut dyn IncomingTarget) -> rotor::Result<bool> {
///         let text = String::from_utf8(body.to_vec()).map_err(|_| rotor::Error::bad_request("not UTF-8"))?;
///         Ok(target.set_any(Box::new(text)).is_ok())
///     }
/// }
///
/// let mut app = rotor::Application::default();
/// app.install_with(ContentNegotiation, |config| {
///     config.register(mime::TEXT_PLAIN_UTF_8, PlainText);
/// });
/// ```
pub trait ContentConverter: fmt::Debug + Send + Sync + 'static {
    /// The body for `value` as `media_type` (the negotiated type, with the parameters it was registered with);
    /// `Ok(None)` if this converter does not serialize values of this type.
    ///
    /// # Errors
    /// If serialization fails (a 500: the value, not the client, is at fault).
    fn serialize(&self, value: &dyn OutgoingValue, media_type: &Mime) -> Result<Option<Bytes>>;

    /// Fills `target` from `body`, sent as `media_type` (the request's `Content-Type`, with its parameters);
    /// `Ok(false)` if this converter does not produce values of the target's type.
    ///
    /// # Errors
    /// 400 for a body that does not parse (say where), 415 for a charset or parameter it cannot read.
    fn deserialize(&self, body: Bytes, media_type: &Mime, target: &mut dyn IncomingTarget) -> Result<bool>;
}

/// A value to serialize, type-erased: a `Serialize` value that can also be downcast.
pub trait OutgoingValue: Send + Sync {
    /// The value, to downcast to a concrete type.
    fn as_any(&self) -> &dyn Any;
    /// The name of its type, for messages.
    fn type_name(&self) -> &'static str;
    /// Writes the value as JSON into `out` (direct, without an intermediate tree).
    ///
    /// # Errors
    /// If the value's `Serialize` fails (a map with non-string keys, a failing custom impl).
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
    /// The value as a serde data tree, for converters of other serde formats to serialize.
    ///
    /// # Errors
    /// As [`write_json`](Self::write_json).
    fn to_serde_value(&self) -> serde_json::Result<serde_json::Value>;
}

pub(crate) struct Outgoing<T>(pub(crate) T);

impl<T: Serialize + Send + Sync + 'static> OutgoingValue for Outgoing<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &self.0)
    }

    fn to_serde_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(&self.0)
    }
}

/// Where a deserialized value goes, type-erased: a slot for one `DeserializeOwned` type.
pub trait IncomingTarget: Send {
    /// The name of the type the slot holds, for messages.
    fn type_name(&self) -> &'static str;
    /// Fills the slot from JSON (direct).
    ///
    /// # Errors
    /// The serde error, which says where (line, column) and what.
    fn read_json(&mut self, json: &[u8]) -> serde_json::Result<()>;
    /// Fills the slot from a serde data tree that a converter of another serde format read.
    ///
    /// # Errors
    /// If the tree does not have the shape of the type.
    fn read_serde_value(&mut self, value: serde_json::Value) -> serde_json::Result<()>;
    /// Fills the slot with a value of its type; gives the value back if it is of another type.
    ///
    /// # Errors
    /// The value itself, when it is not of the slot's type.
    fn set_any(&mut self, value: Box<dyn Any + Send>) -> std::result::Result<(), Box<dyn Any + Send>>;
}

pub(crate) struct Slot<T>(pub(crate) Option<T>);

impl<T: DeserializeOwned + Send + 'static> IncomingTarget for Slot<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn read_json(&mut self, json: &[u8]) -> serde_json::Result<()> {
        self.0 = Some(serde_json::from_slice(json)?);
        Ok(())
    }

    fn read_serde_value(&mut self, value: serde_json::Value) -> serde_json::Result<()> {
        self.0 = Some(serde_json::from_value(value)?);
        Ok(())
    }

    fn set_any(&mut self, value: Box<dyn Any + Send>) -> std::result::Result<(), Box<dyn Any + Send>> {
        self.0 = Some(*value.downcast::<T>()?);
        Ok(())
    }
}
