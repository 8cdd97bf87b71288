//! `JsonConverter`: `application/json` with serde_json.

use bytes::Bytes;
use mime::Mime;

use super::{ContentConverter, IncomingTarget, OutgoingValue};
use crate::{Error, Result};

/// The JSON converter, on serde_json: any `Serialize` value out, any `DeserializeOwned` type in. It reads
/// UTF-8 only (a `charset` other than UTF-8 is refused with 415; a UTF-8 byte-order mark is skipped), answers a
/// malformed body with 400 and serde's message with its line and column, and an empty body with 400 unless
/// the asked type accepts `null` (an `Option`, `()`), which then gets it.
///
/// ```
/// use rotor::plugins::content_negotiation::{ContentNegotiation, JsonConverter};
///
/// let mut app = rotor::Application::default();
/// app.install_with(ContentNegotiation, |config| {
///     config.register(mime::APPLICATION_JSON, JsonConverter::default());
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonConverter;

impl ContentConverter for JsonConverter {
    fn serialize(&self, value: &dyn OutgoingValue, _media_type: &Mime) -> Result<Option<Bytes>> {
        let mut out = Vec::with_capacity(128);
        value.write_json(&mut out).map_err(|error| {
            Error::internal(format!("cannot serialize a `{}` as JSON: {error}", value.type_name())).with_source(error)
        })?;
        Ok(Some(Bytes::from(out)))
    }

    fn deserialize(&self, body: Bytes, media_type: &Mime, target: &mut dyn IncomingTarget) -> Result<bool> {
        if let Some(charset) = media_type.get_param(mime::CHARSET) {
            let charset = charset.as_str();
            if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("us-ascii") {
                return Err(Error::unsupported_media_type(format!(
                    "cannot read a JSON body in charset `{charset}`: JSON is read as UTF-8"
                )));
            }
        }
        let json = body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&body);
        if json.iter().all(u8::is_ascii_whitespace) {
            return match target.read_json(b"null") {
                Ok(()) => Ok(true),
                Err(_) => Err(Error::bad_request(format!(
                    "the request body is empty: expected JSON for a `{}`",
                    target.type_name()
                ))),
            };
        }
        target.read_json(json).map_err(|error| {
            // serde's message ends with the position: "… at line 3 column 7".
            Error::bad_request(format!("malformed JSON for a `{}`: {error}", target.type_name())).with_source(error)
        })?;
        Ok(true)
    }
}
