//! The hyper service: checks a request against the protocol limits, runs it through the application as a
//! call, and hands hyper the response.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::header::{CONNECTION, HOST};
use http::{HeaderValue, Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use rotor::ApplicationCall;
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
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let state = Arc::clone(&self.state);
        Box::pin(async move { Ok(handle(state, request).await) })
    }
}

async fn handle(state: Arc<ConnectionState>, request: Request<Incoming>) -> Response<Body> {
    let limits = &state.shared.limits;
    let http1 = request.version() <= Version::HTTP_11;
    let last = http1
        && limits
            .max_requests_per_connection
            .is_some_and(|max| state.requests.fetch_add(1, Ordering::AcqRel) + 1 >= max);
    state.call_started();
    let _in_flight = InFlight(&state);
    let mut response = match refuse(&state, &request) {
        Some(mut refusal) => {
            if http1 {
                refusal.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            refusal
        }
        None => run_call(&state, request).await,
    };
    if last {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Marks the call as ended when it is dropped (answered, or cut off).
struct InFlight<'a>(&'a ConnectionState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.call_ended();
    }
}

/// Runs the request through the application.
async fn run_call(state: &ConnectionState, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let limits = &state.shared.limits;
    // A request without a body (most GETs) gets an empty one: no stream to wrap, no allocation.
    let body = if http_body::Body::is_end_stream(&body) {
        Body::empty()
    } else {
        Body::new(LimitedBody::new(body, limits.max_body_size, limits.request_read_timeout))
    };
    let request = ApplicationRequest::new(parts, Some(state.remote_addr), Some(state.local_addr));
    let application = &state.shared.application;
    let call = ApplicationCall::new(Arc::clone(application), request, body);
    let outcome = application.execute(&call).await;
    let mut response = call.response().take_http_response().unwrap_or_else(|| {
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
        if request.version() == Version::HTTP_11 {
            let hosts = request.headers().get_all(HOST).iter().count();
            if hosts != 1 {
                let problem = if hosts == 0 { "has no Host header" } else { "has more than one Host header" };
                return Some(status_response(
                    StatusCode::BAD_REQUEST,
                    &format!("an HTTP/1.1 request must carry exactly one Host header; this one {problem}"),
                ));
            }
        }
    }
    let headers = request.headers();
    if headers.len() > limits.max_headers {
        return Some(status_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request has more header fields than the server accepts (rotor.deployment.maxHeaders)",
        ));
    }
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if header_bytes > limits.max_header_size {
        return Some(status_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request's header fields are larger than the server accepts (rotor.deployment.maxHeaderSize)",
        ));
    }
    let declared = headers.get(http::header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
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
