//! `IncomingContent`: a request body and the converter its `Content-Type` chose; the receive interceptor.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use mime::Mime;
use serde::de::DeserializeOwned;

use super::ContentConverter;
use super::config::ContentNegotiationConfig;
use super::converter::Slot;
use super::negotiate;
use crate::call::{ApplicationCall, Body, ReceiveContext};
use crate::{Error, Result};

/// A received body with the media type it was sent as and the converter that reads it:
/// `call.receive::<IncomingContent>()` with ContentNegotiation installed, then
/// [`deserialize`](Self::deserialize). [`NegotiateExt::receive_negotiated`](super::NegotiateExt) does both.
#[derive(Clone)]
pub struct IncomingContent {
    bytes: Bytes,
    media_type: Mime,
    converter: Arc<dyn ContentConverter>,
}

impl fmt::Debug for IncomingContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingContent")
            .field("media_type", &self.media_type.as_ref())
            .field("bytes", &self.bytes.len())
            .field("converter", &self.converter)
            .finish()
    }
}

impl IncomingContent {
    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The media type it was sent as (the request's `Content-Type`, or the configured default).
    pub fn media_type(&self) -> &Mime {
        &self.media_type
    }

    /// The body as a `T`, read by the converter.
    ///
    /// # Errors
    /// 400 if it does not parse, 415 if the converter cannot produce a `T` or read the media type's parameters.
    pub fn deserialize<T: DeserializeOwned + Send + 'static>(&self) -> Result<T> {
        let mut slot = Slot::<T>(None);
        let produced = self.converter.deserialize(self.bytes.clone(), &self.media_type, &mut slot)?;
        match slot.0 {
            Some(value) if produced => Ok(value),
            _ => Err(Error::unsupported_media_type(format!(
                "cannot read a `{}` from a body of type {}",
                std::any::type_name::<T>(),
                self.media_type
            ))),
        }
    }
}

/// The receive-pipeline interceptor: for `IncomingContent` and the registered types, reads the body with
/// the converter of its `Content-Type`.
pub(crate) async fn receive(ctx: ReceiveContext, config: Arc<ContentNegotiationConfig>) -> Result<()> {
    let (body, decode) = {
        let mut subject = ctx.subject();
        let decode = if subject.is_requested::<IncomingContent>() {
            None
        } else {
            match config.receivable.get(&subject.requested_type_id()) {
                Some(decode) => Some(*decode),
                None => return Ok(()),
            }
        };
        if !subject.value_is::<Body>() {
            return Ok(());
        }
        let (media_type, converter) = choose(ctx.context(), &config)?;
        let Some(body) = subject.take_value::<Body>() else { return Ok(()) };
        ((body, media_type, converter), decode)
    };
    let (body, media_type, converter) = body;
    let content = IncomingContent { bytes: body.collect().await?, media_type, converter };
    let mut subject = ctx.subject();
    match decode {
        Some(decode) => decode(&content, &mut subject),
        None => {
            subject.set_value(content);
            Ok(())
        }
    }
}

/// The request's media type and the converter that reads it; 415 if there is none.
fn choose(call: &ApplicationCall, config: &ContentNegotiationConfig) -> Result<(Mime, Arc<dyn ContentConverter>)> {
    let media_type = match call.request().content_type() {
        Some(content_type) => content_type.parse::<Mime>().map_err(|_| {
            Error::unsupported_media_type(format!("the request's Content-Type `{content_type}` is not a media type"))
        })?,
        None => config.default_content_type.clone().ok_or_else(|| {
            Error::unsupported_media_type(format!(
                "the request has no Content-Type: send the body as one of {}",
                config.offered()
            ))
        })?,
    };
    let registration =
        config.registrations.iter().find(|registration| negotiate::reads(&registration.media, &media_type));
    match registration {
        Some(registration) => Ok((media_type, Arc::clone(&registration.converter))),
        None => Err(Error::unsupported_media_type(format!(
            "cannot read a request body of type {media_type}: this server reads {}",
            config.offered()
        ))),
    }
}
