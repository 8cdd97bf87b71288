//! The hyper service: checks a request against the protocol limits, runs it through the application as a
//! call, and hands hyper the response.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use rotor::ApplicationCall;
use rotor::application::CallExecution;
use rotor::call::{ApplicationRequest, Body};

use crate::connection::ConnectionState;
use crate::request_body::{LimitedBody, too_large};

/// Serves the requests of one connection.
pub(crate) struct CallService {
    state: Arc<ConnectionState>,
}

impl CallService {
    pub(crate) fn new(state: Arc<ConnectionState>) -> Self {
        CallService { state }
    }
}

impl hyper::service::Service<Request<Incoming>> for CallService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = CallFuture;

    fn call(&self, request: Request<Incoming>) -> CallFuture {
        let state = &self.state;
        let limits = &state.shared.limits;
        let http1 = request.version() <= Version::HTTP_11;
        let last = http1
            && limits
                .max_requests_per_connection
                .is_some_and(|max| state.requests.fetch_add(1, Ordering::AcqRel) + 1 >= max);
        state.call_started(http1);
        let in_flight = InFlight { state: Arc::clone(state), http1, last };
        let stage = match refuse(state, &request) {
            Some(mut refusal) => {
                if http1 {
                    refusal.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Stage::Answered(Some(Box::new(refusal)))
            }
            None => {
                let call = new_call(state, request);
                Stage::Running(call.execute())
            }
        };
        CallFuture { stage, in_flight }
    }
}

/// The future of one request: the application's execution of its call, then the response taken from the call.
///
/// A named type of a few words, not a boxed `async` block: hyper keeps the future of the request in flight in
/// a slot it allocates once per connection, so a request costs no allocation and no copy of a large future here.
pub(crate) struct CallFuture {
    stage: Stage,
    /// Marks the call as ended when the future is dropped (answered, or cut off); says whether the connection
    /// closes after this response.
    in_flight: InFlight,
}

enum Stage {
    /// Answered before the application (a request over a limit); boxed, as it is rare, so that the future stays
    /// small: hyper keeps a slot of its size for every connection, idle ones included.
    Answered(Option<Box<Response<Body>>>),
    /// The application runs the call.
    Running(CallExecution),
}

impl Future for CallFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let response = match &mut this.stage {
            Stage::Answered(response) => response.take().map(|response| *response),
            Stage::Running(execution) => {
                let outcome = ready!(Pin::new(&mut *execution).poll(cx));
                Some(response_of(execution.call(), outcome))
            }
        };
        let mut response = response.unwrap_or_else(|| {
            tracing::error!(target: "rotor::engine", "a request's future was polled after it finished; answering 500");
            status_response(StatusCode::INTERNAL_SERVER_ERROR, "")
        });
        this.stage = Stage::Answered(None);
        if this.in_flight.last {
            response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(response))
    }
}

/// Marks the call as ended when it is dropped (answered, or cut off).
struct InFlight {
    state: Arc<ConnectionState>,
    /// The call came over HTTP/1 (see [`ConnectionState::call_started`]).
    http1: bool,
    /// The connection closes after this response (`maxRequestsPerConnection`).
    last: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.call_ended(self.http1);
    }
}

/// The call for a request that passed the limits.
fn new_call(state: &ConnectionState, request: Request<Incoming>) -> ApplicationCall {
    let (parts, body) = request.into_parts();
    let limits = &state.shared.limits;
    // A request without a body (most GETs) gets an empty one: no stream to wrap, no allocation.
    let body = if http_body::Body::is_end_stream(&body) {
        Body::empty()
    } else {
        Body::new(LimitedBody::new(body, limits.max_body_size, limits.request_read_timeout))
    };
    // hyper writes `Date` (from its once-a-second cache) on every response that has none, HTTP/1 and HTTP/2.
    let request =
        ApplicationRequest::new(parts, Some(state.remote_addr), Some(state.local_addr)).with_engine_date(true);
    ApplicationCall::new(Arc::clone(&state.shared.application), request, body)
}

/// The response of a call the application has run, with `outcome`, the error that escaped it if any.
fn response_of(call: &ApplicationCall, outcome: rotor::Result<()>) -> Response<Body> {
    // hyper's HTTP/1 writes `Content-Length` from the body's exact size itself (for HEAD it would write none for
    // the emptied body, so there the header is made here).
    let request = call.request();
    let taken = if request.version() <= Version::HTTP_11 && request.method() != Method::HEAD {
        call.response().take_http_response_without_length()
    } else {
        call.response().take_http_response()
    };
    let mut response = taken.unwrap_or_else(|| {
        tracing::error!(target: "rotor::engine", "a call finished without a committed response; answering 500");
        status_response(StatusCode::INTERNAL_SERVER_ERROR, "")
    });
    // After a body error (too large, too slow, malformed) the rest of the body is not read: close.
    if let Err(error) = outcome {
        let status = error.status();
        let body_failed =
            status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::REQUEST_TIMEOUT || error.is_bad_request();
        if body_failed && call.request().version() <= Version::HTTP_11 {
            response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// The answer for a request that breaks a limit before it reaches the application (the connection is closed
/// after it).
fn refuse(state: &ConnectionState, request: &Request<Incoming>) -> Option<Response<Body>> {
    let limits = &state.shared.limits;
    if request.version() <= Version::HTTP_11 {
        let line = request.method().as_str().len() + 1 + target_len(request) + 1 + "HTTP/1.1".len();
        if line > limits.max_initial_line_length {
            return Some(status_response(
                StatusCode::URI_TOO_LONG,
                "the request line is longer than the server accepts (rotor.deployment.maxInitialLineLength)",
            ));
        }
    }
    // One pass over the fields: their count, their size, the `Host` fields and the first `Content-Length`.
    let headers = request.headers();
    let (mut fields, mut header_bytes, mut hosts) = (0usize, 0usize, 0usize);
    let mut declared_length = None;
    for (name, value) in headers {
        fields += 1;
        header_bytes += name.as_str().len() + value.len() + 4;
        if *name == HOST {
            hosts += 1;
        } else if *name == CONTENT_LENGTH && declared_length.is_none() {
            declared_length = Some(value);
        }
    }
    if request.version() == Version::HTTP_11 && hosts != 1 {
        let problem = if hosts == 0 { "has no Host header" } else { "has more than one Host header" };
        return Some(status_response(
            StatusCode::BAD_REQUEST,
            &format!("an HTTP/1.1 request must carry exactly one Host header; this one {problem}"),
        ));
    }
    if fields > limits.max_headers {
        return Some(status_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request has more header fields than the server accepts (rotor.deployment.maxHeaders)",
        ));
    }
    if header_bytes > limits.max_header_size {
        return Some(status_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request's header fields are larger than the server accepts (rotor.deployment.maxHeaderSize)",
        ));
    }
    let declared = declared_length.and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_size) {
        // Answered before the body is read, so no `100 Continue` is ever sent for it.
        return Some(status_response(StatusCode::PAYLOAD_TOO_LARGE, &too_large(limits.max_body_size).to_string()));
    }
    None
}

/// The length of the request target as it appeared on the request line.
fn target_len(request: &Request<Incoming>) -> usize {
    let uri = request.uri();
    match uri.path_and_query() {
        Some(path) if uri.authority().is_none() => path.as_str().len(),
        _ => uri.to_string().len(),
    }
}

#[cold]
fn status_response(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = status;
    if !message.is_empty() {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_future_of_a_request_stays_small() {
        // hyper keeps one slot of this size per connection, idle ones included (about 11 KB per idle connection
        // in all, bench/README.md). The call pipeline's execution keeps its interceptor list, the call and the
        // step it awaits in it (in-place interceptors run without a shared state), and is where the engine
        // finds the call.
        assert!(std::mem::size_of::<CallFuture>() <= 80, "{} bytes", std::mem::size_of::<CallFuture>());
    }
}
