//! The one error type of Rotor, with kind predicates.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::StatusCode;

/// A boxed error that can cross threads: the `source` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type used throughout Rotor.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of every fallible Rotor operation, and the error a handler returns.
///
/// It is opaque, as hyper's is: ask what went wrong with the predicates (`is_bad_request()`, `is_timeout()`,
/// …) and [`status()`](Error::status) for the HTTP status it answers with when it escapes a handler. Its
/// `Display` says what went wrong and what to do; [`source()`](Error::source) says why, when there is a cause.
///
/// Any `std::error::Error + Send + Sync` converts into it with `?` (as with `anyhow`), which is why `Error`
/// does not implement `std::error::Error` itself; it is `Clone` (the cause is shared); convert it with `Box<dyn Error + Send + Sync>::from` where a
/// standard error is needed. A converted error answers 500, except timeouts (`tokio::time::error::Elapsed`,
/// `io::ErrorKind::TimedOut`), which answer 504.
///
/// ```
/// use rotor::Error;
///
/// let error = Error::bad_request("the `page` parameter must be a number");
/// assert!(error.is_bad_request());
/// assert_eq!(error.status(), 400);
///
/// fn parse(input: &str) -> rotor::Result<u32> {
///     Ok(input.parse::<u32>()?) // any standard error converts
/// }
/// let error = parse("x").unwrap_err();
/// assert_eq!(error.status(), 500);
/// assert!(error.downcast_ref::<std::num::ParseIntError>().is_some());
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<ErrorImpl>,
}

#[derive(Clone)]
struct ErrorImpl {
    kind: Kind,
    message: Cow<'static, str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The request is malformed or a parameter is missing or invalid: 400.
    BadRequest,
    /// The resource does not exist: 404.
    NotFound,
    /// No representation the client accepts: 406.
    NotAcceptable,
    /// The body is larger than allowed: 413.
    PayloadTooLarge,
    /// The body's media type is not supported, or it cannot be received as the asked type: 415.
    UnsupportedMediaType,
    /// An operation took too long: 504.
    Timeout,
    /// A handler answered with an explicit status.
    Status(StatusCode),
    /// A phase that the pipeline does not have.
    UnknownPhase,
    /// A plugin conflict or a missing plugin.
    Plugin,
    /// A second response to a call that has already been answered.
    ResponseAlreadySent,
    /// A value the send pipeline cannot render.
    CannotRender,
    /// A handler or interceptor panicked.
    Panic,
    /// Bad configuration.
    Config,
    /// Any other failure (a converted error, a bug): 500.
    Internal,
}

impl Error {
    #[cold]
    fn with_kind(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Error { inner: Box::new(ErrorImpl { kind, message: message.into(), source: None }) }
    }

    /// A malformed request or an invalid parameter; answers 400 Bad Request.
    #[cold]
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::BadRequest, message)
    }

    /// A missing resource; answers 404 Not Found.
    #[cold]
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::NotFound, message)
    }

    /// No representation acceptable to the client; answers 406 Not Acceptable.
    #[cold]
    pub fn not_acceptable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::NotAcceptable, message)
    }

    /// A body over the allowed size; answers 413 Payload Too Large.
    #[cold]
    pub fn payload_too_large(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::PayloadTooLarge, message)
    }

    /// A body of a media type the server cannot read; answers 415 Unsupported Media Type.
    #[cold]
    pub fn unsupported_media_type(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::UnsupportedMediaType, message)
    }

    /// An operation that ran out of time; answers 504 Gateway Timeout.
    #[cold]
    pub fn timeout(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Timeout, message)
    }

    /// An error that answers with the given status.
    ///
    /// ```
    /// use rotor::http::StatusCode;
    /// let error = rotor::Error::with_status(StatusCode::CONFLICT, "the name is taken");
    /// assert_eq!(error.status(), StatusCode::CONFLICT);
    /// ```
    #[cold]
    pub fn with_status(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Status(status), message)
    }

    /// Any other failure; answers 500 Internal Server Error.
    #[cold]
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Internal, message)
    }

    /// A configuration error: a missing key, a value of the wrong type, a malformed file.
    #[cold]
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Config, message)
    }

    #[cold]
    pub(crate) fn unknown_phase(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::UnknownPhase, message)
    }

    #[cold]
    pub(crate) fn plugin(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Plugin, message)
    }

    #[cold]
    pub(crate) fn response_already_sent(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::ResponseAlreadySent, message)
    }

    #[cold]
    pub(crate) fn cannot_render(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::CannotRender, message)
    }

    #[cold]
    pub(crate) fn panic(message: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(Kind::Panic, message)
    }

    /// Attaches the cause of this error, returned by [`source()`](Error::source).
    #[must_use]
    #[cold]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(Arc::from(source.into()));
        self
    }

    /// The HTTP status this error answers with when it escapes a handler.
    ///
    /// 400 bad request, 404 not found, 406 not acceptable, 413 payload too large, 415 unsupported media type,
    /// 504 timeout, the given status for [`Error::with_status`], 500 for everything else.
    pub fn status(&self) -> StatusCode {
        match self.inner.kind {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Kind::Status(status) => status,
            Kind::UnknownPhase
            | Kind::Plugin
            | Kind::ResponseAlreadySent
            | Kind::CannotRender
            | Kind::Panic
            | Kind::Config
            | Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True for a malformed request or an invalid parameter (400).
    pub fn is_bad_request(&self) -> bool {
        self.inner.kind == Kind::BadRequest
    }

    /// True for a missing resource (404).
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == Kind::NotFound
    }

    /// True when no acceptable representation exists (406).
    pub fn is_not_acceptable(&self) -> bool {
        self.inner.kind == Kind::NotAcceptable
    }

    /// True for a body over the allowed size (413).
    pub fn is_payload_too_large(&self) -> bool {
        self.inner.kind == Kind::PayloadTooLarge
    }

    /// True for an unsupported media type, or a body that cannot be received as the asked type (415).
    pub fn is_unsupported_media_type(&self) -> bool {
        self.inner.kind == Kind::UnsupportedMediaType
    }

    /// True for an operation that ran out of time (504).
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
    }

    /// True for intercepting or inserting relative to a phase the pipeline does not have.
    pub fn is_unknown_phase(&self) -> bool {
        self.inner.kind == Kind::UnknownPhase
    }

    /// True for a plugin conflict (two plugins under one key) or a missing plugin.
    pub fn is_plugin(&self) -> bool {
        self.inner.kind == Kind::Plugin
    }

    /// True for responding to a call that has already been answered.
    pub fn is_response_already_sent(&self) -> bool {
        self.inner.kind == Kind::ResponseAlreadySent
    }

    /// True for a response value that no interceptor could render into bytes.
    pub fn is_cannot_render(&self) -> bool {
        self.inner.kind == Kind::CannotRender
    }

    /// True for a handler or interceptor that panicked.
    pub fn is_panic(&self) -> bool {
        self.inner.kind == Kind::Panic
    }

    /// True for a configuration error.
    pub fn is_config(&self) -> bool {
        self.inner.kind == Kind::Config
    }

    /// The message: what went wrong and, where it helps, what to do.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The cause of this error, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.inner.source.as_deref()
    }

    /// The cause, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.inner.source.as_deref().and_then(|source| source.downcast_ref::<E>())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(source) = &self.inner.source {
            let source = source.to_string();
            if !source.is_empty() && source != *self.inner.message {
                write!(f, ": {source}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("rotor::Error");
        debug.field("kind", &self.inner.kind).field("message", &self.inner.message);
        if let Some(source) = &self.inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    #[cold]
    fn from(error: E) -> Self {
        let source: BoxError = Box::new(error);
        let timed_out = source.is::<tokio::time::error::Elapsed>()
            || source.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut);
        let kind = if timed_out { Kind::Timeout } else { Kind::Internal };
        let message = source.to_string();
        Error { inner: Box::new(ErrorImpl { kind, message: message.into(), source: Some(Arc::from(source)) }) }
    }
}

/// The text of a panic's payload (`panic!("…")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        String::from("(a panic with a non-text payload)")
    }
}

impl Error {
    /// The error for a panic caught while running an interceptor or handler.
    #[cold]
    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        Error::panic(format!("a handler or interceptor panicked: {}", panic_message(payload)))
    }
}

impl Error {
    /// The error of a failing body stream: a Rotor error inside the box (a limit an engine enforces, say) is
    /// kept as it is; any other error is a 400 with `message` and the error as its source.
    #[cold]
    pub(crate) fn from_body_error(error: BoxError, message: &'static str) -> Self {
        match error.downcast::<StdError>() {
            Ok(rotor) => rotor.0,
            Err(other) => Error::bad_request(message).with_source(other),
        }
    }
}

/// A standard-error view of a Rotor [`Error`], for code that needs `std::error::Error`.
struct StdError(Error);

impl fmt::Debug for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.message())
    }
}

impl std::error::Error for StdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.inner.source.as_deref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for BoxError {
    fn from(error: Error) -> Self {
        Box::new(StdError(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        assert_eq!(Error::bad_request("x").status(), 400);
        assert_eq!(Error::not_found("x").status(), 404);
        assert_eq!(Error::not_acceptable("x").status(), 406);
        assert_eq!(Error::payload_too_large("x").status(), 413);
        assert_eq!(Error::unsupported_media_type("x").status(), 415);
        assert_eq!(Error::timeout("x").status(), 504);
        assert_eq!(Error::internal("x").status(), 500);
        assert_eq!(Error::panic("x").status(), 500);
        assert_eq!(Error::with_status(StatusCode::IM_A_TEAPOT, "x").status(), 418);
    }

    #[test]
    fn converted_timeouts_answer_504() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow disk");
        let error = Error::from(io);
        assert!(error.is_timeout());
        assert_eq!(error.status(), 504);
        let other = Error::from(std::io::Error::other("broken"));
        assert_eq!(other.status(), 500);
        assert_eq!(other.to_string(), "broken");
    }

    #[test]
    fn display_joins_message_and_source() {
        let error = Error::bad_request("cannot read the body").with_source(std::io::Error::other("reset"));
        assert_eq!(error.to_string(), "cannot read the body: reset");
        assert!(error.downcast_ref::<std::io::Error>().is_some());
        let boxed: BoxError = error.into();
        assert_eq!(boxed.to_string(), "cannot read the body");
        assert!(boxed.source().is_some());
    }
}
