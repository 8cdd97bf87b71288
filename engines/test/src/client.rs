//! `TestClient`: sends requests to a test application in memory.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use http::header::HOST;
use http::{HeaderName, HeaderValue, Method, Request, Uri, Version};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rotor::call::{ApplicationRequest, Body};
use rotor::{Application, ApplicationCall, Error};

use crate::TestResponse;

/// The address test requests come from.
pub const TEST_REMOTE_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000);
/// The address test requests arrive at.
pub const TEST_LOCAL_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 80);

/// Characters escaped in query names and values: everything but unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A client of a [`TestApplication`](crate::TestApplication): one method per HTTP method, each returning a
/// request builder. Requests run the application's real pipeline in memory.
///
/// ```
/// use rotor::prelude::*;
///
/// fn module(app: &mut Application) {
///     app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
///         let call = ctx.call();
///         let name = call.parameters().get("name").unwrap_or("nobody").to_owned();
///         let body = call.receive_text().await?;
///         call.respond_text(format!("{} {name}: {body}", call.request().method())).await
///     });
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(module).await;
/// let response = app.client().put("/").query("name", "Ada L").text("hi").send().await;
/// assert_eq!(response.text().await, "PUT Ada L: hi");
/// # }
/// ```
#[derive(Clone)]
pub struct TestClient {
    application: Arc<Application>,
    timeout: Duration,
}

impl fmt::Debug for TestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl TestClient {
    pub(crate) fn new(application: Arc<Application>, timeout: Duration) -> Self {
        TestClient { application, timeout }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequestBuilder {
        TestRequestBuilder {
            client: self.clone(),
            method,
            target: path.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: Body::empty(),
            version: Version::HTTP_11,
            remote_addr: TEST_REMOTE_ADDR,
        }
    }

    /// A `GET` request.
    pub fn get(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::GET, path)
    }

    /// A `POST` request.
    pub fn post(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::PUT, path)
    }

    /// A `DELETE` request.
    pub fn delete(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// A `PATCH` request.
    pub fn patch(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::PATCH, path)
    }

    /// A `HEAD` request.
    pub fn head(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::HEAD, path)
    }

    /// An `OPTIONS` request.
    pub fn options(&self, path: &str) -> TestRequestBuilder {
        self.request(Method::OPTIONS, path)
    }
}

/// A request being built; [`send`](Self::send) runs it.
pub struct TestRequestBuilder {
    client: TestClient,
    method: Method,
    target: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Body,
    version: Version,
    remote_addr: SocketAddr,
}

impl fmt::Debug for TestRequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRequestBuilder")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("query", &self.query)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl TestRequestBuilder {
    /// Adds a header (repeatable). A name or value that is not valid fails the request with a 400-kind error
    /// in the response, as a real server would refuse it.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter, percent-encoded (repeatable).
    #[must_use]
    pub fn query(mut self, name: &str, value: &str) -> Self {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.extend(utf8_percent_encode(name, QUERY_COMPONENT));
        self.query.push('=');
        self.query.extend(utf8_percent_encode(value, QUERY_COMPONENT));
        self
    }

    /// Sets the body (bytes, text, or a streaming [`Body`]).
    #[must_use]
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a text body and `Content-Type: text/plain; charset=utf-8`.
    #[must_use]
    pub fn text(self, text: impl Into<String>) -> Self {
        self.header("content-type", "text/plain; charset=utf-8").body(text.into())
    }

    /// Sets the HTTP version the request claims (HTTP/1.1 by default).
    #[must_use]
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Sets the address the request comes from.
    #[must_use]
    pub fn remote_addr(mut self, remote_addr: SocketAddr) -> Self {
        self.remote_addr = remote_addr;
        self
    }

    /// Runs the request through the application and returns its response, with the error that escaped the
    /// handler if there was one. It never hangs: a call that runs past the client's time limit ends in a 504
    /// response with a timeout error.
    pub async fn send(mut self) -> TestResponse {
        let parts = match self.build_request() {
            Ok(parts) => parts,
            Err(error) => return TestResponse::from_error(error),
        };
        let body = std::mem::take(&mut self.body);
        let call = ApplicationCall::new(
            Arc::clone(&self.client.application),
            ApplicationRequest::new(parts, Some(self.remote_addr), Some(TEST_LOCAL_ADDR)),
            body,
        );
        let execution = call.clone().execute();
        let mut execution = std::pin::pin!(execution);
        // Most calls finish without waiting: poll once before arming the time limit, so that they cost no timer.
        // A call that waits gets the whole limit from there.
        let first = std::future::poll_fn(|cx| Poll::Ready(execution.as_mut().poll(cx))).await;
        let outcome = match first {
            Poll::Ready(result) => Ok(result),
            Poll::Pending => tokio::time::timeout(self.client.timeout, execution).await,
        };
        let error = match outcome {
            Ok(result) => result.err(),
            Err(_elapsed) => {
                return TestResponse::from_error(Error::timeout(format!(
                    "the call did not finish within {:?} (set TestApplicationBuilder::call_timeout to change this)",
                    self.client.timeout
                )));
            }
        };
        match call.response().take_http_response() {
            Some(response) => TestResponse::new(response, error),
            None => TestResponse::from_error(
                error.unwrap_or_else(|| Error::internal("the call finished without a response")),
            ),
        }
    }

    /// The request target as sent: the path (with a leading `/` added) and the query parameters.
    fn full_target(&self) -> String {
        let slash = !self.target.starts_with('/') && self.target != "*";
        let query = if self.query.is_empty() { 0 } else { 1 + self.query.len() };
        // Exactly the length, so that the bytes become the URI's without a copy or a second allocation.
        let mut target = String::with_capacity(usize::from(slash) + self.target.len() + query);
        if slash {
            target.push('/');
        }
        target.push_str(&self.target);
        if !self.query.is_empty() {
            target.push(if self.target.contains('?') { '&' } else { '?' });
            target.push_str(&self.query);
        }
        target
    }

    /// The request head: the target parsed in place, the headers validated, `Host` added when missing.
    fn build_request(&self) -> rotor::Result<http::request::Parts> {
        let uri = Uri::from_maybe_shared(Bytes::from(self.full_target())).map_err(|error| {
            let target = self.full_target();
            Error::bad_request(format!("invalid request target {target:?}: {error}"))
        })?;
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = self.method.clone();
        parts.uri = uri;
        parts.version = self.version;
        let mut has_host = false;
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|error| Error::bad_request(format!("invalid header name {name:?}: {error}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|error| Error::bad_request(format!("invalid value for header `{name}`: {error}")))?;
            has_host |= name == HOST;
            parts.headers.append(name, value);
        }
        if !has_host {
            parts.headers.insert(HOST, HeaderValue::from_static("localhost"));
        }
        Ok(parts)
    }
}
