//! Support for the documentation's examples.

use std::future::Future;
use std::sync::Arc;

use crate::call::{ApplicationCall, ApplicationRequest, Body};
use crate::{Application, Result};

/// Runs `example` with a `GET /` call of a default application, on a current-thread runtime, and panics if
/// it fails. For documentation examples only.
pub fn doc_call<F, Fut>(example: F)
where
    F: FnOnce(ApplicationCall) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let application = Arc::new(Application::default());
    let head = http::Request::get("/").body(()).map(|request| request.into_parts().0);
    let head = head.unwrap_or_else(|error| panic!("a static request is valid: {error}"));
    let call = ApplicationCall::new(application, ApplicationRequest::new(head, None, None), Body::empty());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let runtime = runtime.unwrap_or_else(|error| panic!("cannot start a runtime: {error}"));
    if let Err(error) = runtime.block_on(example(call)) {
        panic!("example failed: {error}");
    }
}
