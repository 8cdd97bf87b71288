//! `JsonConverter`: `application/json` with serde_json.

use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use mime::Mime;

use super::{ContentConverter, IncomingTarget, OutgoingValue};
use crate::{Error, Result};

/// The length of the last JSON body written, the capacity of the next one's buffer (a hint: races between
/// threads only make it less exact).
static LAST_JSON_LENGTH: AtomicUsize = AtomicUsize::new(0);

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
        // Straight into the body's buffer, sized by the last JSON body this process wrote: responses of one
        // shape then take exactly one allocation of the right size and no copy. Otherwise the buffer grows, and
        // is trimmed to its length at the end (in place), so that the body is still one allocation with no
        // spare capacity (a `Vec` with spare capacity would cost `Bytes` a second allocation).
        // A hint above 64 KiB is not followed, so that one large body does not make every later one reserve as
        // much.
        let hint = LAST_JSON_LENGTH.load(Ordering::Relaxed);
        let mut out = Vec::with_capacity(if hint == 0 || hint > 64 * 1024 { 128 } else { hint });
        value.write_json(&mut out).map_err(|error| {
            Error::internal(format!("cannot serialize a `{}` as JSON: {error}", value.type_name())).with_source(error)
        })?;
        if out.len() != hint {
            LAST_JSON_LENGTH.store(out.len(), Ordering::Relaxed);
        }
        Ok(Some(Bytes::from(out.into_boxed_slice())))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::content_negotiation::converter::Outgoing;

    #[test]
    fn bodies_of_any_size_in_any_order_are_written_whole() {
        // Sizes below, at and above the previous body's (the buffer's hint), and above the 64 KiB cap.
        for length in [3usize, 3, 40, 2, 100_000, 10, 10, 70_000, 1] {
            let value = Outgoing(vec![7u8; length]);
            let body = JsonConverter.serialize(&value, &mime::APPLICATION_JSON).unwrap().unwrap();
            assert_eq!(body, serde_json::to_vec(&vec![7u8; length]).unwrap(), "{length}");
        }
    }
}
