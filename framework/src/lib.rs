#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

pub mod application;
pub mod call;
pub mod config;
pub mod engine;
pub mod environment;
pub mod error;
pub mod events;
pub mod pipeline;
pub mod plugins;
pub mod prelude;
pub mod routing;

mod doc_support;

pub use application::Application;
pub use call::ApplicationCall;
pub use error::{BoxError, Error, Result};
pub use {bytes, http};

#[doc(hidden)]
pub use doc_support::doc_call;
