//! `TestResponse`: what a test application answered, and the error that escaped, if any.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use rotor::Error;
use rotor::call::Body;

/// The response to a test request: status, headers and body as an engine would write them, plus the error
/// that escaped the handler (already answered with its mapped status), if any.
///
/// ```
/// use rotor::prelude::*;
///
/// fn module(app: &mut Application) {
///     app.intercept(&ApplicationCallPipeline::CALL, |_ctx| async move {
///         Err(Error::bad_request("the `id` parameter must be a number"))
///     });
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(module).await;
/// let response = app.client().get("/users/x").send().await;
/// assert_eq!(response.status(), 400);
/// assert!(response.error().unwrap().is_bad_request());
/// assert_eq!(response.text().await, "the `id` parameter must be a number");
/// # }
/// ```
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    error: Option<Error>,
}

impl fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("error", &self.error)
            .finish()
    }
}

impl TestResponse {
    pub(crate) fn new(response: http::Response<Body>, error: Option<Error>) -> Self {
        let (parts, body) = response.into_parts();
        TestResponse { status: parts.status, headers: parts.headers, body, error }
    }

    /// A response made for an error that stopped the request before or outside the application (an invalid
    /// request, a call past its time limit): the error's status and no body.
    pub(crate) fn from_error(error: Error) -> Self {
        TestResponse { status: error.status(), headers: HeaderMap::new(), body: Body::empty(), error: Some(error) }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The error that escaped the handler, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Takes the error that escaped the handler, if any.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// The body, read whole.
    ///
    /// # Panics
    /// If the body stream fails, with its error.
    pub async fn bytes(self) -> Bytes {
        match self.body.collect().await {
            Ok(bytes) => bytes,
            Err(error) => panic!("reading the response body failed: {error}"),
        }
    }

    /// The body, read whole as UTF-8 text.
    ///
    /// # Panics
    /// If the body stream fails or is not UTF-8.
    pub async fn text(self) -> String {
        match String::from_utf8(self.bytes().await.to_vec()) {
            Ok(text) => text,
            Err(error) => panic!("the response body is not UTF-8: {error}"),
        }
    }

    /// The body, still streaming.
    pub fn into_body(self) -> Body {
        self.body
    }
}
