//! The receive pipeline: from the request body to the value a handler asks for.

use std::any::{Any, TypeId};
use std::fmt;

use bytes::Bytes;

use super::{ApplicationCall, Body};
use crate::pipeline::{Interceptor, Pipeline, PipelineContext, PipelinePhase, Step};
use crate::{Error, Result};

/// The receive pipeline (Ktor's `ApplicationReceivePipeline`): its subject is a [`ReceiveRequest`], the type
/// asked for and the value so far (at first the request [`Body`]); its context is the call.
///
/// Phases, in order: [`BEFORE`](Self::BEFORE), [`TRANSFORM`](Self::TRANSFORM) (the body becomes the asked
/// type; `Bytes`, `Vec<u8>`, `String` and `Body` work out of the box, first in this phase) and
/// [`AFTER`](Self::AFTER).
///
/// ```
/// use rotor::call::ApplicationReceivePipeline;
///
/// let pipeline = ApplicationReceivePipeline::standard();
/// let phases: Vec<&str> = pipeline.phases().map(|p| p.name()).collect();
/// assert_eq!(phases, ["Before", "Transform", "After"]);
/// ```
pub type ApplicationReceivePipeline = Pipeline<ReceiveRequest, ApplicationCall>;

/// The context of a receive-pipeline interceptor.
pub type ReceiveContext = PipelineContext<ReceiveRequest, ApplicationCall>;

impl Pipeline<ReceiveRequest, ApplicationCall> {
    /// Before any transformation (decompression, size limits).
    pub const BEFORE: PipelinePhase = PipelinePhase::new("Before");
    /// The body is transformed into the asked type.
    pub const TRANSFORM: PipelinePhase = PipelinePhase::new("Transform");
    /// After the transformation.
    pub const AFTER: PipelinePhase = PipelinePhase::new("After");

    /// The receive pipeline with its three phases and no interceptors.
    pub fn standard() -> Self {
        Pipeline::new([Self::BEFORE, Self::TRANSFORM, Self::AFTER])
    }

    /// Adds the built-in conversions an application's receive pipeline has (first in Transform).
    pub(crate) fn install_builtin_steps(&mut self) -> Result<()> {
        self.add_interceptor(&Self::TRANSFORM, ReceiveBuiltin)
    }
}

/// The subject of the receive pipeline: the type a handler asked for and the value so far.
///
/// ```
/// use rotor::call::{Body, ReceiveRequest};
///
/// let mut request = ReceiveRequest::new::<String>(Body::from("text"));
/// assert!(request.is_requested::<String>());
/// assert!(request.value_is::<Body>());
/// let body: Body = request.take_value().unwrap();
/// assert_eq!(body.exact_len(), Some(4));
/// request.set_value(String::from("converted"));
/// assert!(request.value_is::<String>());
/// ```
pub struct ReceiveRequest {
    requested: TypeId,
    requested_name: &'static str,
    value: Option<(Box<dyn Any + Send>, &'static str)>,
}

impl ReceiveRequest {
    /// A request to receive `body` as a `T`.
    pub fn new<T: 'static>(body: Body) -> Self {
        ReceiveRequest {
            requested: TypeId::of::<T>(),
            requested_name: std::any::type_name::<T>(),
            value: Some((Box::new(body), std::any::type_name::<Body>())),
        }
    }

    /// True if the handler asked for a `T`.
    pub fn is_requested<T: 'static>(&self) -> bool {
        self.requested == TypeId::of::<T>()
    }

    /// The `TypeId` of the type the handler asked for, to look converters up in a table.
    pub fn requested_type_id(&self) -> TypeId {
        self.requested
    }

    /// The name of the type the handler asked for.
    pub fn requested_type_name(&self) -> &'static str {
        self.requested_name
    }

    /// True if the value so far is a `T`.
    pub fn value_is<T: 'static>(&self) -> bool {
        self.value.as_ref().is_some_and(|(value, _)| value.is::<T>())
    }

    /// The name of the type of the value so far.
    pub fn value_type_name(&self) -> &'static str {
        self.value.as_ref().map_or("(taken)", |(_, name)| name)
    }

    /// The value so far, if it is a `T`.
    pub fn value_ref<T: 'static>(&self) -> Option<&T> {
        self.value.as_ref().and_then(|(value, _)| value.downcast_ref::<T>())
    }

    /// Takes the value if it is a `T`.
    pub fn take_value<T: 'static>(&mut self) -> Option<T> {
        if !self.value_is::<T>() {
            return None;
        }
        let (value, _) = self.value.take()?;
        value.downcast::<T>().ok().map(|value| *value)
    }

    /// Replaces the value.
    pub fn set_value<T: Send + 'static>(&mut self, value: T) {
        self.value = Some((Box::new(value), std::any::type_name::<T>()));
    }

    /// The final value as the asked type `T`.
    pub(crate) fn into_value<T: 'static>(mut self) -> Result<T> {
        let value_type = self.value_type_name();
        self.take_value::<T>().ok_or_else(|| {
            let requested = self.requested_name;
            Error::unsupported_media_type(format!(
                "cannot receive the request body as `{requested}`: no interceptor of the receive pipeline \
                 converted it (the value is still `{value_type}`). Bytes, Vec<u8>, String and Body work out of the \
                 box; install a plugin that converts to `{requested}` (ContentNegotiation for JSON)"
            ))
        })
    }
}

impl fmt::Debug for ReceiveRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiveRequest")
            .field("requested", &self.requested_name)
            .field("value", &self.value_type_name())
            .finish()
    }
}

/// Converts the body into `Bytes`, `Vec<u8>` or `String` when one of those was asked for.
struct ReceiveBuiltin;

#[derive(Clone, Copy)]
enum Target {
    Bytes,
    Vec,
    String,
}

impl Interceptor<ReceiveRequest, ApplicationCall> for ReceiveBuiltin {
    fn intercept(&self, ctx: ReceiveContext) -> Step {
        self.intercept_ref(&ctx)
    }

    fn intercept_ref(&self, ctx: &ReceiveContext) -> Step {
        let (target, body) = {
            let mut subject = ctx.subject();
            let target = if subject.is_requested::<Bytes>() {
                Target::Bytes
            } else if subject.is_requested::<Vec<u8>>() {
                Target::Vec
            } else if subject.is_requested::<String>() {
                Target::String
            } else {
                return Step::ready(Ok(()));
            };
            match subject.take_value::<Body>() {
                Some(body) => (target, body),
                None => return Step::ready(Ok(())),
            }
        };
        if let Target::String = target {
            if let Err(error) = check_charset(ctx.context()) {
                return Step::ready(Err(error));
            }
        }
        let ctx = ctx.clone();
        Step::boxed(async move {
            let bytes = body.collect().await?;
            let mut subject = ctx.subject();
            match target {
                Target::Bytes => subject.set_value(bytes),
                Target::Vec => subject.set_value(Vec::from(bytes)),
                Target::String => subject.set_value(utf8(bytes)?),
            }
            Ok(())
        })
    }
}

fn utf8(bytes: Bytes) -> Result<String> {
    String::from_utf8(Vec::from(bytes)).map_err(|error| {
        Error::bad_request(format!(
            "the request body is not valid UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
    })
}

/// Text is read as UTF-8; a `Content-Type` naming another charset is refused rather than misread.
fn check_charset(call: &ApplicationCall) -> Result<()> {
    let Some(content_type) = call.request().content_type() else { return Ok(()) };
    let charset = content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"'))
    });
    match charset {
        None => Ok(()),
        Some(charset) if charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("us-ascii") => Ok(()),
        Some(charset) => Err(Error::unsupported_media_type(format!(
            "cannot read the request body as text in charset `{charset}`: only UTF-8 is supported"
        ))),
    }
}
