//! `ApplicationCall`: one request and its response, as it flows through the pipelines.

mod attributes;
mod body;
mod content;
mod engine_response;
mod parameters;
mod receive;
mod request;
mod request_headers;
mod respond;
mod response;
mod response_defaults;
mod send;
mod spare_call;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

pub use attributes::{AttributeKey, Attributes};
pub use body::Body;
pub use content::OutgoingContent;
pub use engine_response::{EngineResponse, Fields};
pub use parameters::Parameters;
pub use receive::{ApplicationReceivePipeline, ReceiveContext, ReceiveRequest};
pub use request::ApplicationRequest;
pub(crate) use request_headers::visible_ascii;
pub use request_headers::{RawField, RequestHeaders, Values};
pub use respond::Respond;
pub use response::{ApplicationResponse, HeadersGuard};
pub(crate) use response_defaults::{DefaultFields, MAX_DEFERRED, ResponseDefaults};
pub use send::{ApplicationSendPipeline, ResponseValue, SendContext};
pub use spare_call::SpareCall;

use crate::application::Application;
use crate::pipeline::{Interceptors, List, PipelineExecution};
use crate::{Error, Result};

/// One HTTP exchange: the request, the response being built, typed attributes, and parameters.
///
/// It is a cheap handle: cloning counts a reference, and every clone sees the same call. Handlers and
/// interceptors get it by value (`|call: ApplicationCall| async move { … }`).
///
/// [`respond`](Self::respond) runs the send pipeline (Before, Transform, Render, ContentEncoding,
/// TransferEncoding, After, Engine); [`receive`](Self::receive) runs the receive pipeline (Before, Transform,
/// After) on the request body.
///
/// ```
/// # rotor::doc_call(|call| async move {
/// use rotor::call::AttributeKey;
///
/// const STARTED: AttributeKey<u64> = AttributeKey::new("Started");
/// call.attributes().put(&STARTED, 7);
/// assert_eq!(call.request().method(), "GET");
/// assert_eq!(call.attributes().get(&STARTED), Some(&7));
/// call.respond_text("Hello").await?;
/// assert!(call.is_handled());
/// # Ok(()) });
/// ```
#[derive(Clone)]
pub struct ApplicationCall {
    inner: Arc<CallInner>,
}

struct CallInner {
    application: Arc<Application>,
    request: ApplicationRequest,
    body: Mutex<Option<Body>>,
    state: Mutex<CallState>,
    /// True once content is committed. Set with the state locked (with the content), read without the lock.
    committed: AtomicBool,
    /// True once [`ApplicationCall::set_pipelines`] gave the call pipelines of its own (set with the state
    /// locked): until then `respond` and `receive` run the application's without taking the lock.
    routed_pipelines: AtomicBool,
    /// True once routing resolved a route for the call (read by routing's interceptor after the handlers).
    route_matched: AtomicBool,
    attributes: Mutex<Attributes>,
    /// True once the attributes were handed out for a change: until then they are empty, and a lookup takes no
    /// lock.
    attributed: AtomicBool,
}

/// The mutable part of a call, behind one lock.
#[derive(Default)]
pub(crate) struct CallState {
    status: Option<StatusCode>,
    headers: http::HeaderMap,
    /// Default fields set aside (DefaultHeaders'), inserted into `headers` when it is next looked at.
    defaults: Option<ResponseDefaults>,
    content: Option<OutgoingContent>,
    path_parameters: Parameters,
    parameters: Option<Arc<Parameters>>,
    unhandled: Option<UnhandledStatus>,
    send_pipeline: Option<Arc<ApplicationSendPipeline>>,
    receive_pipeline: Option<Arc<ApplicationReceivePipeline>>,
}

/// The most response fields a [`SpareCall`] keeps room for in its emptied map (a larger map is freed).
const MAX_KEPT_RESPONSE_FIELDS: usize = 32;

impl CallState {
    /// Leaves the state as a new call's, for a [`SpareCall`]: field by field (the map emptied where it lies) rather
    /// than a new state over the old, whose drop would free an empty map (about 70 instructions). Every field is
    /// named, so that a new one cannot be left out.
    fn reset(&mut self) {
        let CallState {
            status,
            headers,
            defaults,
            content,
            path_parameters,
            parameters,
            unhandled,
            send_pipeline,
            receive_pipeline,
        } = self;
        *status = None;
        // A map emptied in place keeps its room for the next call, unless it grew large.
        if headers.capacity() > MAX_KEPT_RESPONSE_FIELDS {
            *headers = http::HeaderMap::new();
        } else {
            headers.clear();
        }
        *defaults = None;
        *content = None;
        if !path_parameters.is_empty() {
            *path_parameters = Parameters::new();
        }
        *parameters = None;
        *unhandled = None;
        *send_pipeline = None;
        *receive_pipeline = None;
    }
}

/// The answer a call gets when nothing handled it: a status recorded by routing (404, 405 with `Allow`, …).
#[derive(Clone, Debug)]
pub(crate) struct UnhandledStatus {
    pub(crate) status: StatusCode,
    pub(crate) allow: Option<HeaderValue>,
}

/// The interceptors of the application's send pipeline, read through a call.
fn application_send_interceptors(call: &ApplicationCall) -> &Interceptors<ResponseValue, ApplicationCall> {
    call.inner.application.send_pipeline().interceptors()
}

impl fmt::Debug for ApplicationCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationCall")
            .field("method", self.inner.request.method())
            .field("uri", self.inner.request.uri())
            .field("handled", &self.is_handled())
            .finish_non_exhaustive()
    }
}

impl ApplicationCall {
    /// A call of `application` for a request whose body streams from `body`. Engines make calls; tests use
    /// `rotor-test`.
    pub fn new(application: Arc<Application>, request: ApplicationRequest, body: Body) -> Self {
        ApplicationCall {
            inner: Arc::new(CallInner {
                application,
                request,
                body: Mutex::new(Some(body)),
                state: Mutex::new(CallState::default()),
                committed: AtomicBool::new(false),
                routed_pipelines: AtomicBool::new(false),
                route_matched: AtomicBool::new(false),
                attributes: Mutex::new(Attributes::new()),
                attributed: AtomicBool::new(false),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, CallState> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The application serving this call.
    pub fn application(&self) -> &Arc<Application> {
        &self.inner.application
    }

    /// The request head.
    pub fn request(&self) -> &ApplicationRequest {
        &self.inner.request
    }

    /// Ends the call and gives its request's header fields back ([`RequestHeaders::into_parts`]: the map if there
    /// is one, the vector of parsed fields if the engine gave them so), for an engine that reuses them for its
    /// next request head (rotor-cio keeps the vector): `Some` when this is the call's last handle, `None` when
    /// something else still holds the call (it is only dropped here then). Either way the call's own state (its
    /// body, response, attributes) is dropped as a drop of this handle would.
    ///
    /// ```
    /// use rotor::call::ApplicationRequest;
    /// use rotor::prelude::*;
    ///
    /// let app = std::sync::Arc::new(Application::default());
    /// let (parts, ()) = rotor::http::Request::builder().header("x-a", "1").body(()).unwrap().into_parts();
    /// let call = ApplicationCall::new(app, ApplicationRequest::new(parts, None, None), Default::default());
    /// let kept = call.clone();
    /// assert!(call.into_request_headers().is_none(), "another handle holds the call");
    /// let headers = kept.into_request_headers().expect("the last handle");
    /// assert_eq!(headers.map()["x-a"], "1");
    /// ```
    pub fn into_request_headers(mut self) -> Option<RequestHeaders> {
        Arc::get_mut(&mut self.inner).map(|inner| inner.request.take_headers())
    }

    /// Ends the call as an engine does once its execution is over: takes the answer
    /// ([`ApplicationResponse::take_engine_response`]) and gives the request's header fields back
    /// ([`into_request_headers`](Self::into_request_headers)) with one uniqueness check of this handle instead of
    /// a lock of the call's state and a check. When another handle still holds the call, the answer is taken under
    /// the lock and the fields are `None`. The call's own state (its body, attributes) is dropped after the answer is
    /// taken: here when this is the last handle, else when the last one goes, as with a drop of this handle.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use rotor::call::{ApplicationRequest, Body};
    /// use rotor::prelude::*;
    ///
    /// let mut app = Application::default();
    /// app.routing(|r| {
    ///     r.get("/", |call: ApplicationCall| async move { call.respond_text("hi").await });
    /// });
    /// let app = std::sync::Arc::new(app);
    /// let request = || {
    ///     let (parts, ()) = rotor::http::Request::get("/").header("x-a", "1").body(()).unwrap().into_parts();
    ///     ApplicationRequest::new(parts, None, None)
    /// };
    ///
    /// let mut execution = ApplicationCall::new(app.clone(), request(), Body::empty()).execute();
    /// (&mut execution).await.unwrap();
    /// let (answer, headers) = execution.into_call().into_engine_parts();
    /// assert_eq!(answer.expect("answered").status(), 200);
    /// assert_eq!(headers.expect("the last handle").map()["x-a"], "1");
    ///
    /// let mut execution = ApplicationCall::new(app, request(), Body::empty()).execute();
    /// (&mut execution).await.unwrap();
    /// let kept = execution.call().clone();
    /// let (answer, headers) = execution.into_call().into_engine_parts();
    /// assert!(answer.is_some() && headers.is_none(), "another handle holds the call");
    /// assert!(kept.response().take_engine_response().is_none(), "taken once");
    /// # });
    /// ```
    pub fn into_engine_parts(self) -> (Option<EngineResponse>, Option<RequestHeaders>) {
        let (answer, headers, _spare) = self.into_engine_parts_and_spare();
        (answer, headers)
    }

    /// The response being built.
    pub fn response(&self) -> ApplicationResponse<'_> {
        ApplicationResponse { state: &self.inner.state, committed: &self.inner.committed }
    }

    /// The call's typed attributes, locked. Do not hold the guard across an `.await`.
    pub fn attributes(&self) -> MutexGuard<'_, Attributes> {
        // Marked before the lock is taken, so a lookup that finds it unmarked knows nothing was put yet (one that
        // happens-after a put sees the mark: it was stored before the put, in the same thread).
        if !self.inner.attributed.load(Ordering::Relaxed) {
            self.inner.attributed.store(true, Ordering::Relaxed);
        }
        self.inner.attributes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True if the call has the attribute `key`; takes no lock while no attribute was ever put (most calls, on
    /// the lookups routing makes for every call).
    pub(crate) fn has_attribute<T: Send + Sync + 'static>(&self, key: &AttributeKey<T>) -> bool {
        self.inner.attributed.load(Ordering::Relaxed) && self.attributes().contains(key)
    }

    /// The parameters: path parameters captured by routing, then the query parameters.
    pub fn parameters(&self) -> Arc<Parameters> {
        let mut state = self.state();
        if let Some(parameters) = &state.parameters {
            return Arc::clone(parameters);
        }
        let query = self.inner.request.query_parameters();
        let parameters = if state.path_parameters.is_empty() {
            query.clone()
        } else {
            let mut merged = state.path_parameters.clone();
            merged.extend(query);
            merged
        };
        let parameters = Arc::new(parameters);
        state.parameters = Some(Arc::clone(&parameters));
        parameters
    }

    /// Sets the path parameters (routing does this when it resolves a route).
    pub fn set_path_parameters(&self, parameters: Parameters) {
        let mut state = self.state();
        state.path_parameters = parameters;
        state.parameters = None;
    }

    /// True once the call has been answered.
    pub fn is_handled(&self) -> bool {
        self.inner.committed.load(Ordering::Acquire)
    }

    /// Records the status an unhandled call answers with (routing records 404, 405 and the like here, and the
    /// call is answered with it after the Fallback phase unless something responds first).
    pub fn set_unhandled_status(&self, status: StatusCode, allow: Option<HeaderValue>) {
        self.state().unhandled = Some(UnhandledStatus { status, allow });
    }

    pub(crate) fn unhandled_status(&self) -> Option<UnhandledStatus> {
        self.state().unhandled.clone()
    }

    /// Makes [`respond`](Self::respond) and [`receive`](Self::receive) run these pipelines instead of the
    /// application's. Routing does this for a resolved route, with the application's pipelines merged with
    /// the route's (built once per route), so that plugins installed on a route apply to its calls.
    pub fn set_pipelines(&self, send: Arc<ApplicationSendPipeline>, receive: Arc<ApplicationReceivePipeline>) {
        let mut state = self.state();
        state.send_pipeline = Some(send);
        state.receive_pipeline = Some(receive);
        self.inner.routed_pipelines.store(true, Ordering::Release);
    }

    /// Records that routing resolved a route for this call.
    pub(crate) fn set_route_matched(&self) {
        self.inner.route_matched.store(true, Ordering::Release);
    }

    /// True once routing resolved a route for this call.
    pub(crate) fn route_matched(&self) -> bool {
        self.inner.route_matched.load(Ordering::Acquire)
    }

    /// The pipeline `pick` reads from the call's state, if routing gave the call pipelines of its own; no lock
    /// for a call it gave none.
    fn routed<P>(&self, pick: impl FnOnce(&CallState) -> Option<Arc<P>>) -> Option<Arc<P>> {
        if !self.inner.routed_pipelines.load(Ordering::Acquire) {
            return None;
        }
        pick(&self.state())
    }

    /// Responds with `value`, run through the send pipeline.
    ///
    /// Text (`String`, `&'static str`, `Cow<'static, str>`), bytes (`Bytes`, `Vec<u8>`, `&'static [u8]`), a
    /// [`StatusCode`], a [`Body`] stream and [`OutgoingContent`] render out of the box; plugins render more
    /// (ContentNegotiation: JSON).
    ///
    /// The returned future ([`Respond`]) is a small named type; the check that the call is unanswered and the
    /// choice of send pipeline happen when `respond` is called, the pipeline runs when the future is polled.
    ///
    /// # Errors
    /// If the call was already answered, if no interceptor renders a value of this type (the error names the
    /// type), or if an interceptor of the send pipeline fails.
    pub fn respond<T: Send + 'static>(&self, value: T) -> Respond {
        if self.is_handled() {
            return Respond::failed(response::already_sent());
        }
        let value = ResponseValue::new(value);
        let execution = match self.routed(|state| state.send_pipeline.clone()) {
            Some(pipeline) => pipeline.execute(self.clone(), value),
            // Read through the call, which owns the application: no reference count of the list per response.
            None => PipelineExecution::start(List::InContext(application_send_interceptors), self.clone(), value),
        };
        Respond::running(execution)
    }

    /// Sets the status, then responds with `value`.
    ///
    /// # Errors
    /// As [`respond`](Self::respond).
    pub fn respond_with_status<T: Send + 'static>(&self, status: StatusCode, value: T) -> Respond {
        self.response().set_status(status);
        self.respond(value)
    }

    /// Responds with UTF-8 text, `text/plain; charset=utf-8`.
    ///
    /// # Errors
    /// As [`respond`](Self::respond).
    pub fn respond_text(&self, text: impl Into<Bytes>) -> Respond {
        self.respond(OutgoingContent::text(text))
    }

    /// Responds with bytes of the given content type.
    ///
    /// # Errors
    /// As [`respond`](Self::respond).
    pub fn respond_bytes(&self, bytes: impl Into<Bytes>, content_type: HeaderValue) -> Respond {
        self.respond(OutgoingContent::new(Body::full(bytes), Some(content_type)))
    }

    /// Takes the request body as a stream, without running the receive pipeline.
    ///
    /// # Errors
    /// If the body was already received.
    pub fn take_body(&self) -> Result<Body> {
        self.inner.body.lock().unwrap_or_else(PoisonError::into_inner).take().ok_or_else(|| {
            Error::internal(
                "the request body has already been received: a body can be received once per call \
                 (install DoubleReceive to receive it more than once)",
            )
        })
    }

    /// Puts `body` back as the request body, for the next [`take_body`](Self::take_body) or
    /// [`receive`](Self::receive); returns the body that was there, if any. Plugins that buffer the body
    /// (DoubleReceive) use this so that it can be received again.
    ///
    /// ```
    /// # rotor::doc_call(|call| async move {
    /// let _ = call.take_body()?;
    /// call.replace_body(rotor::call::Body::from("again"));
    /// assert_eq!(call.receive_text().await?, "again");
    /// # Ok(()) });
    /// ```
    pub fn replace_body(&self, body: Body) -> Option<Body> {
        self.inner.body.lock().unwrap_or_else(PoisonError::into_inner).replace(body)
    }

    /// Receives the request body as a `T`, run through the receive pipeline.
    ///
    /// `Bytes`, `Vec<u8>`, `String` (UTF-8; other charsets are refused with 415) and [`Body`] work out of the
    /// box; plugins convert to more types (ContentNegotiation: JSON).
    ///
    /// # Errors
    /// 415 if nothing converts the body to `T` (the error names the type); 400 for text that is not UTF-8 or a
    /// body stream that fails; an error if the body was already received.
    pub async fn receive<T: Send + 'static>(&self) -> Result<T> {
        let request = ReceiveRequest::new::<T>(self.take_body()?);
        let routed = self.routed(|state| state.receive_pipeline.clone());
        let request = match routed {
            Some(pipeline) => pipeline.execute(self.clone(), request).await?,
            None => self.inner.application.receive_pipeline().execute(self.clone(), request).await?,
        };
        request.into_value::<T>()
    }

    /// Receives the request body as UTF-8 text.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_text(&self) -> Result<String> {
        self.receive::<String>().await
    }

    /// Receives the request body as bytes.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_bytes(&self) -> Result<Bytes> {
        self.receive::<Bytes>().await
    }
}
