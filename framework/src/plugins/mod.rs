//! Built-in plugins, one module each, each written against the same public plugin API an application uses
//! ([`Plugin`](crate::application::Plugin), [`PluginBuilder`](crate::application::PluginBuilder)).

pub mod auto_head_response;
pub mod caching_headers;
pub mod call_id;
pub mod call_logging;
#[cfg(feature = "compression")]
pub mod compression;
pub mod conditional_headers;
pub mod content_negotiation;
pub mod default_headers;
pub mod double_receive;
pub mod forwarded_headers;
pub mod partial_content;
pub mod request_body_limit;
pub mod static_content;
pub mod status_pages;
