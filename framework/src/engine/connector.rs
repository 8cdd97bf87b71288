//! `ResolvedConnector`: a connector as the engine bound it.

use std::fmt;
use std::net::SocketAddr;

/// A connector as bound: the host it was configured with, the address it listens on (with the real port
/// when port 0 was asked for), and whether it speaks TLS.
///
/// ```
/// use rotor::engine::ResolvedConnector;
///
/// let connector = ResolvedConnector::new("0.0.0.0", "0.0.0.0:8080".parse().unwrap(), false);
/// assert_eq!(connector.url(), "http://0.0.0.0:8080");
/// assert_eq!(connector.loopback_url().as_deref(), Some("http://127.0.0.1:8080"));
/// assert_eq!(connector.port(), 8080);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedConnector {
    host: String,
    local_addr: SocketAddr,
    tls: bool,
}

impl ResolvedConnector {
    /// A connector configured for `host`, listening on `local_addr`.
    pub fn new(host: impl Into<String>, local_addr: SocketAddr, tls: bool) -> Self {
        ResolvedConnector { host: host.into(), local_addr, tls }
    }

    /// The host as configured.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The address the connector listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// True for an HTTPS connector.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// The URL of the connector with its configured host.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{host}:{}", self.scheme(), self.port())
    }

    /// For a connector on every interface (`0.0.0.0`, `::`), the loopback URL a person on the same machine can
    /// open; `None` otherwise.
    pub fn loopback_url(&self) -> Option<String> {
        if !self.local_addr.ip().is_unspecified() {
            return None;
        }
        let loopback = if self.local_addr.is_ipv4() { "127.0.0.1" } else { "[::1]" };
        Some(format!("{}://{loopback}:{}", self.scheme(), self.port()))
    }
}

impl fmt::Display for ResolvedConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}
