//! The send pipeline: from the value a handler responds with to the content an engine writes.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::StatusCode;

use super::{ApplicationCall, Body, OutgoingContent};
use crate::pipeline::{Pipeline, PipelineContext, PipelinePhase, in_place};
use crate::plugins::content_negotiation::Negotiate;
use crate::{Error, Result};

/// The send pipeline (Ktor's `ApplicationSendPipeline`): its subject is the [`ResponseValue`] given to
/// [`ApplicationCall::respond`], its context the call.
///
/// Phases, in order: [`BEFORE`](Self::BEFORE), [`TRANSFORM`](Self::TRANSFORM) (plugins turn values into other
/// values, e.g. JSON), [`RENDER`](Self::RENDER) (values become [`OutgoingContent`]; text, bytes, status codes,
/// [`Body`] streams and `OutgoingContent` are rendered here out of the box), [`CONTENT_ENCODING`](Self::CONTENT_ENCODING)
/// (compression), [`TRANSFER_ENCODING`](Self::TRANSFER_ENCODING), [`AFTER`](Self::AFTER), and
/// [`ENGINE`](Self::ENGINE), where the content is committed to the call for the engine to write.
///
/// ```
/// use rotor::call::ApplicationSendPipeline;
///
/// let pipeline = ApplicationSendPipeline::standard();
/// let phases: Vec<&str> = pipeline.phases().map(|p| p.name()).collect();
/// assert_eq!(phases, ["Before", "Transform", "Render", "ContentEncoding", "TransferEncoding", "After", "Engine"]);
/// ```
pub type ApplicationSendPipeline = Pipeline<ResponseValue, ApplicationCall>;

/// The context of a send-pipeline interceptor.
pub type SendContext = PipelineContext<ResponseValue, ApplicationCall>;

impl Pipeline<ResponseValue, ApplicationCall> {
    /// Before any transformation.
    pub const BEFORE: PipelinePhase = PipelinePhase::new("Before");
    /// Values are transformed into other values (content negotiation).
    pub const TRANSFORM: PipelinePhase = PipelinePhase::new("Transform");
    /// Values are rendered into [`OutgoingContent`].
    pub const RENDER: PipelinePhase = PipelinePhase::new("Render");
    /// Content is encoded (compression).
    pub const CONTENT_ENCODING: PipelinePhase = PipelinePhase::new("ContentEncoding");
    /// Transfer encoding is decided.
    pub const TRANSFER_ENCODING: PipelinePhase = PipelinePhase::new("TransferEncoding");
    /// After every transformation.
    pub const AFTER: PipelinePhase = PipelinePhase::new("After");
    /// The content is committed to the call for the engine to write.
    pub const ENGINE: PipelinePhase = PipelinePhase::new("Engine");

    /// The send pipeline with its seven phases and no interceptors.
    pub fn standard() -> Self {
        Pipeline::new([
            Self::BEFORE,
            Self::TRANSFORM,
            Self::RENDER,
            Self::CONTENT_ENCODING,
            Self::TRANSFER_ENCODING,
            Self::AFTER,
            Self::ENGINE,
        ])
    }

    /// Adds the built-in steps an application's send pipeline has: rendering of text, bytes, status codes,
    /// streams and `OutgoingContent` (first in Render), and the commit to the call (first in Engine).
    pub(crate) fn install_builtin_steps(&mut self) -> Result<()> {
        self.add_interceptor(&Self::RENDER, in_place(render_builtin))?;
        self.add_interceptor(&Self::ENGINE, in_place(commit_content))
    }
}

/// The subject of the send pipeline: what a handler responds with, on its way to becoming
/// [`OutgoingContent`].
///
/// Values of any `Send + 'static` type travel through the pipeline; interceptors look at them with
/// [`is`](Self::is) and [`downcast_ref`](Self::downcast_ref), take them with [`take`](Self::take), and
/// replace them. `OutgoingContent` and ContentNegotiation's [`Negotiate`] travel unboxed (a value of another
/// type is boxed once).
///
/// ```
/// use rotor::call::{OutgoingContent, ResponseValue};
///
/// let value = ResponseValue::new(String::from("hi"));
/// assert!(value.is::<String>());
/// assert_eq!(value.type_name(), "alloc::string::String");
/// let content = ResponseValue::new(OutgoingContent::text("hi"));
/// assert!(content.content().is_some());
/// ```
pub struct ResponseValue {
    repr: Repr,
}

enum Repr {
    Content(OutgoingContent),
    Negotiate(Negotiate),
    Value { value: Box<dyn Any + Send>, type_name: &'static str },
    Taken,
}

impl ResponseValue {
    /// Wraps `value`; an [`OutgoingContent`] or a [`Negotiate`] is kept without boxing.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        let mut slot = Some(value);
        let any = &mut slot as &mut dyn Any;
        if let Some(content) = any.downcast_mut::<Option<OutgoingContent>>().and_then(Option::take) {
            return ResponseValue { repr: Repr::Content(content) };
        }
        if let Some(negotiate) = any.downcast_mut::<Option<Negotiate>>().and_then(Option::take) {
            return ResponseValue { repr: Repr::Negotiate(negotiate) };
        }
        match slot {
            Some(value) => {
                ResponseValue { repr: Repr::Value { value: Box::new(value), type_name: std::any::type_name::<T>() } }
            }
            None => ResponseValue { repr: Repr::Taken },
        }
    }

    /// The name of the type of the value (`OutgoingContent` once rendered).
    pub fn type_name(&self) -> &'static str {
        match &self.repr {
            Repr::Content(_) => std::any::type_name::<OutgoingContent>(),
            Repr::Negotiate(_) => std::any::type_name::<Negotiate>(),
            Repr::Value { type_name, .. } => type_name,
            Repr::Taken => "(taken)",
        }
    }

    /// True if the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        match &self.repr {
            Repr::Content(_) => std::any::TypeId::of::<T>() == std::any::TypeId::of::<OutgoingContent>(),
            Repr::Negotiate(_) => std::any::TypeId::of::<T>() == std::any::TypeId::of::<Negotiate>(),
            Repr::Value { value, .. } => value.is::<T>(),
            Repr::Taken => false,
        }
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        match &self.repr {
            Repr::Content(content) => (content as &dyn Any).downcast_ref::<T>(),
            Repr::Negotiate(negotiate) => (negotiate as &dyn Any).downcast_ref::<T>(),
            Repr::Value { value, .. } => value.downcast_ref::<T>(),
            Repr::Taken => None,
        }
    }

    /// The value, mutably, if it is a `T`.
    pub fn downcast_mut<T: 'static>(&mut self) -> Option<&mut T> {
        match &mut self.repr {
            Repr::Content(content) => (content as &mut dyn Any).downcast_mut::<T>(),
            Repr::Negotiate(negotiate) => (negotiate as &mut dyn Any).downcast_mut::<T>(),
            Repr::Value { value, .. } => value.downcast_mut::<T>(),
            Repr::Taken => None,
        }
    }

    /// Takes the value out if it is a `T`, leaving this empty; otherwise leaves it and returns `None`.
    pub fn take<T: 'static>(&mut self) -> Option<T> {
        if !self.is::<T>() {
            return None;
        }
        match std::mem::replace(&mut self.repr, Repr::Taken) {
            Repr::Content(content) => take_as(content),
            Repr::Negotiate(negotiate) => take_as(negotiate),
            Repr::Value { value, .. } => value.downcast::<T>().ok().map(|value| *value),
            Repr::Taken => None,
        }
    }

    /// The rendered content, once the value is one.
    pub fn content(&self) -> Option<&OutgoingContent> {
        match &self.repr {
            Repr::Content(content) => Some(content),
            _ => None,
        }
    }

    /// The rendered content, mutably.
    pub fn content_mut(&mut self) -> Option<&mut OutgoingContent> {
        match &mut self.repr {
            Repr::Content(content) => Some(content),
            _ => None,
        }
    }

    /// The rendered content.
    ///
    /// # Errors
    /// If the value was not rendered: its type has no renderer ([`Error::is_cannot_render`]).
    pub fn into_content(self) -> Result<OutgoingContent> {
        let type_name = self.type_name();
        match self.repr {
            Repr::Content(content) => Ok(content),
            Repr::Negotiate(_) | Repr::Value { .. } => Err(Error::cannot_render(format!(
                "cannot respond with a value of type `{type_name}`: no interceptor of the send pipeline rendered it. \
                 Respond with text (String, &'static str), bytes (Bytes, Vec<u8>), a StatusCode, a Body stream or \
                 an OutgoingContent, or install a plugin that renders `{type_name}` (ContentNegotiation for JSON)"
            ))),
            Repr::Taken => Err(Error::cannot_render(
                "the response value was taken by an interceptor of the send pipeline and nothing replaced it",
            )),
        }
    }
}

/// `value` as a `T`, if it is one (no boxing: the value moves through an `Option` seen as `Any`).
fn take_as<V: 'static, T: 'static>(value: V) -> Option<T> {
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any).downcast_mut::<Option<T>>().and_then(Option::take)
}

impl From<OutgoingContent> for ResponseValue {
    fn from(content: OutgoingContent) -> Self {
        ResponseValue { repr: Repr::Content(content) }
    }
}

impl fmt::Debug for ResponseValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Content(content) => fmt::Debug::fmt(content, f),
            Repr::Negotiate(negotiate) => fmt::Debug::fmt(negotiate, f),
            Repr::Value { type_name, .. } => write!(f, "ResponseValue<{type_name}>"),
            Repr::Taken => f.write_str("ResponseValue(taken)"),
        }
    }
}

/// Renders the values Rotor knows how to send without any plugin.
fn render_builtin(subject: &mut ResponseValue, _call: &ApplicationCall) -> Result<()> {
    if subject.content().is_some() {
        return Ok(());
    }
    let content = if let Some(text) = subject.take::<String>() {
        OutgoingContent::text(text)
    } else if let Some(text) = subject.take::<&'static str>() {
        OutgoingContent::text(Bytes::from_static(text.as_bytes()))
    } else if let Some(text) = subject.take::<Cow<'static, str>>() {
        match text {
            Cow::Borrowed(text) => OutgoingContent::text(Bytes::from_static(text.as_bytes())),
            Cow::Owned(text) => OutgoingContent::text(text),
        }
    } else if let Some(bytes) = subject.take::<Bytes>() {
        OutgoingContent::bytes(bytes)
    } else if let Some(bytes) = subject.take::<Vec<u8>>() {
        OutgoingContent::bytes(bytes)
    } else if let Some(bytes) = subject.take::<&'static [u8]>() {
        OutgoingContent::bytes(Bytes::from_static(bytes))
    } else if let Some(status) = subject.take::<StatusCode>() {
        OutgoingContent::status_only(status)
    } else if let Some(body) = subject.take::<Body>() {
        OutgoingContent::stream(body)
    } else {
        return Ok(());
    };
    *subject = ResponseValue::from(content);
    Ok(())
}

/// The last built-in step: the value must be content by now, and is committed to the call.
fn commit_content(subject: &mut ResponseValue, call: &ApplicationCall) -> Result<()> {
    let value = std::mem::replace(subject, ResponseValue { repr: Repr::Taken });
    value.into_content().and_then(|content| call.response().commit(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_and_negotiated_values_travel_unboxed_and_are_taken_back_as_themselves() {
        let mut negotiated = ResponseValue::new(Negotiate::new(vec![1, 2]));
        assert!(matches!(negotiated.repr, Repr::Negotiate(_)), "not boxed");
        assert!(negotiated.is::<Negotiate>() && !negotiated.is::<String>());
        assert_eq!(negotiated.type_name(), std::any::type_name::<Negotiate>());
        assert!(negotiated.take::<String>().is_none(), "a wrong type leaves it");
        assert_eq!(negotiated.take::<Negotiate>().expect("taken").type_name(), "alloc::vec::Vec<i32>");
        assert!(negotiated.take::<Negotiate>().is_none(), "taken once");

        let mut content = ResponseValue::new(OutgoingContent::text("hi"));
        assert!(matches!(content.repr, Repr::Content(_)));
        assert!(content.take::<OutgoingContent>().is_some());
        let mut text = ResponseValue::new(String::from("boxed"));
        assert!(matches!(text.repr, Repr::Value { .. }));
        assert_eq!(text.take::<String>().as_deref(), Some("boxed"));
    }
}
