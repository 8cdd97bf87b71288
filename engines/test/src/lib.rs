#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod application;
mod client;
mod response;

pub use application::{TestApplication, TestApplicationBuilder, test_application};
pub use client::{TEST_LOCAL_ADDR, TEST_REMOTE_ADDR, TestClient, TestRequestBuilder};
pub use response::TestResponse;
