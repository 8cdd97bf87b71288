#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
#![forbid(unsafe_code)]

mod base;
mod signals;

pub use base::{BaseEngine, ConnectionHandler};
pub use signals::{EngineState, SignalChange, SignalWatch, Signals, Watch};
