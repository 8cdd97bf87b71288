//! Black-box tests of Rotor live in `tests/`: the framework and an engine together, driven from outside.
//! Socket-level tests (limits, malformed requests, TLS, graceful stop) join them with the HTTP engine.
//!
//! The repository's README is compiled here too, so its examples stay true:
#![doc = include_str!("../../README.md")]
