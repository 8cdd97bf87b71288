//! ForwardedHeaders and XForwardedHeaders: the call's origin (scheme, host, port, client address) as reported
//! by trusted reverse proxies, in `Forwarded` (RFC 7239) or `X-Forwarded-For/-Proto/-Host/-Port`.
//!
//! ```
//! use rotor::plugins::forwarded_headers::{ForwardedHeaders, origin};
//! use rotor::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = rotor_test::test_application(|app| {
//!     // The test client connects from 127.0.0.1, trusted by default.
//!     app.install(ForwardedHeaders, Default::default());
//!     app.routing(|r| {
//!         r.get("/", |call: ApplicationCall| async move {
//!             let origin = origin(&call);
//!             call.respond_text(format!("{}://{}:{} from {}", origin.scheme, origin.host, origin.port, origin.remote_host))
//!                 .await
//!         });
//!     });
//! })
//! .await;
//! let response = app.client().get("/").header("Forwarded", "for=203.0.113.7;proto=https;host=example.com").send().await;
//! assert_eq!(response.text().await, "https://example.com:443 from 203.0.113.7");
//! # }
//! ```

mod parse;
mod trust;

use std::net::IpAddr;
use std::sync::Arc;

use http::uri::Authority;

pub use trust::IpBlock;

use crate::application::{ApplicationCallPipeline, Plugin, PluginBuilder};
use crate::call::{ApplicationCall, AttributeKey};
use crate::{Error, Result};
use parse::{Hop, Node};
use trust::Trust;

/// Where a call came from: the scheme, host and port the client used, and the client's address.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOrigin {
    /// The scheme the client used (`http`, `https`), lower-case.
    pub scheme: String,
    /// The host the client asked for, without the port (an IPv6 address in brackets).
    pub host: String,
    /// The port the client connected to.
    pub port: u16,
    /// The client: its address as text, or the identifier a proxy gave (`unknown`, `_hidden`).
    pub remote_host: String,
    /// The client's address, when known.
    pub remote_ip: Option<IpAddr>,
}

/// The attribute the forwarded origin is stored under, when a trusted proxy reported one.
pub const FORWARDED_ORIGIN: AttributeKey<RequestOrigin> = AttributeKey::new("ForwardedOrigin");

/// The call's origin: as reported by trusted proxies (with [`ForwardedHeaders`] or [`XForwardedHeaders`]
/// installed), else as the connection and the `Host` header say ([`local_origin`]).
pub fn origin(call: &ApplicationCall) -> RequestOrigin {
    let forwarded = call.attributes().get(&FORWARDED_ORIGIN).cloned();
    forwarded.unwrap_or_else(|| local_origin(call))
}

/// The call's origin as the connection says: the request's scheme (`http` unless the request URI has one, as
/// HTTP/2 requests do), the `Host` header's host and port (else the local address), and the peer's address.
pub fn local_origin(call: &ApplicationCall) -> RequestOrigin {
    let request = call.request();
    let scheme = request.uri().scheme_str().unwrap_or("http").to_ascii_lowercase();
    let authority = request.host().and_then(|host| host.parse::<Authority>().ok());
    let local = request.local_addr();
    let host = match &authority {
        Some(authority) => authority.host().to_owned(),
        None => local.map_or_else(|| String::from("localhost"), |local| host_text(local.ip())),
    };
    let port = authority
        .as_ref()
        .and_then(Authority::port_u16)
        .or_else(|| local.map(|local| local.port()))
        .unwrap_or_else(|| default_port(&scheme));
    let remote_ip = request.remote_addr().map(|remote| remote.ip());
    let remote_host = remote_ip.map_or_else(|| String::from("unknown"), |ip| ip.to_string());
    RequestOrigin { scheme, host, port, remote_host, remote_ip }
}

fn host_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "https" | "wss" => 443,
        _ => 80,
    }
}

/// The plugin for the standard `Forwarded` header (RFC 7239; Ktor's `ForwardedHeaders`).
///
/// For a call from a trusted proxy, the elements of `Forwarded` are read from the last (added by the proxy
/// that connected to us) towards the first, for as long as each reported client is itself a trusted proxy; the
/// first untrusted one is the client, and its element gives the scheme and host (a missing one is taken from
/// the elements after it, else from the connection). A call from an untrusted address, or with a malformed
/// header, keeps the connection's origin: headers a client sends directly are never believed.
///
/// Trusted proxies default to loopback only (`127.0.0.0/8`, `::1`), unlike Ktor, which believes every
/// sender: configure [`trusted_proxies`](ForwardedHeadersConfig::trusted_proxies) with your proxies' addresses,
/// or [`trust_all`](ForwardedHeadersConfig::trust_all) when nothing but your proxies can reach the server.
#[derive(Clone, Copy, Debug, Default)]
pub struct ForwardedHeaders;

/// The plugin for `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Port` (Ktor's
/// `XForwardedHeaders`), with the same trust rules as [`ForwardedHeaders`] applied to `X-Forwarded-For`.
///
/// A `Proto`, `Host` or `Port` list as long as `X-Forwarded-For` is read at the chosen client's position;
/// otherwise its last value (the one the nearest proxy wrote) is used.
#[derive(Clone, Copy, Debug, Default)]
pub struct XForwardedHeaders;

/// The configuration of [`ForwardedHeaders`] and [`XForwardedHeaders`].
#[derive(Clone, Debug)]
pub struct ForwardedHeadersConfig {
    trusted: Option<Vec<String>>,
}

impl Default for ForwardedHeadersConfig {
    fn default() -> Self {
        ForwardedHeadersConfig { trusted: Some(vec![String::from("127.0.0.0/8"), String::from("::1")]) }
    }
}

impl ForwardedHeadersConfig {
    /// Trusts exactly these proxies: addresses or CIDR blocks (`10.0.0.0/8`, `fd00::/8`), replacing the
    /// default (loopback). Each is checked at install, which fails naming a malformed one.
    pub fn trusted_proxies<I, S>(&mut self, proxies: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted = Some(proxies.into_iter().map(Into::into).collect());
        self
    }

    /// Believes the headers of every sender, as Ktor does: only safe when nothing but your proxies can reach
    /// the server. The origin is then the first (client-most) entry.
    pub fn trust_all(&mut self) -> &mut Self {
        self.trusted = None;
        self
    }

    fn trust(&self) -> Result<Trust> {
        match &self.trusted {
            None => Ok(Trust::All),
            Some(list) => {
                let blocks = list.iter().map(|proxy| proxy.parse::<IpBlock>()).collect::<Result<Vec<_>>>();
                blocks.map(Trust::Blocks).map_err(|error| Error::config(format!("ForwardedHeaders: {error}")))
            }
        }
    }
}

/// The position of the client among `hops`: `None` if the connection is not from a trusted proxy (the headers
/// are ignored), `Some(None)` if there are no hops, else the index of the first untrusted hop from the end.
fn client_index(trust: &Trust, remote: Option<IpAddr>, hops: &[Hop]) -> Option<Option<usize>> {
    if !trust.trusts(remote) {
        return None;
    }
    let mut chosen = None;
    for (index, hop) in hops.iter().enumerate().rev() {
        chosen = Some(index);
        if !trust.trusts(hop.node.as_ref().and_then(|node| node.ip)) {
            break;
        }
    }
    Some(chosen)
}

/// The origin from the connection's, overridden by what the proxies reported.
fn forwarded_origin(call: &ApplicationCall, node: Option<&Node>, reported: Hop) -> RequestOrigin {
    let local = local_origin(call);
    let scheme = reported.proto.clone().unwrap_or_else(|| local.scheme.clone());
    let host = reported.host.as_deref().and_then(|host| host.parse::<Authority>().ok());
    let port = reported.port.or_else(|| host.as_ref().and_then(Authority::port_u16)).unwrap_or_else(|| {
        let header_port = call.request().host().and_then(|host| host.parse::<Authority>().ok()?.port_u16());
        match (&host, &reported.proto) {
            (Some(_), _) => default_port(&scheme),
            (None, Some(_)) => header_port.unwrap_or_else(|| default_port(&scheme)),
            (None, None) => local.port,
        }
    });
    RequestOrigin {
        host: host.map_or(local.host, |host| host.host().to_owned()),
        port,
        remote_host: node.map_or(local.remote_host, |node| node.name.clone()),
        remote_ip: node.map_or(local.remote_ip, |node| node.ip),
        scheme,
    }
}

fn from_forwarded(trust: &Trust, call: &ApplicationCall) -> Option<RequestOrigin> {
    let hops = parse::forwarded(call.request().headers())?;
    let index = client_index(trust, call.request().remote_addr().map(|remote| remote.ip()), &hops)?;
    let relevant = index.map_or(&[][..], |index| &hops[index..]);
    let reported = Hop {
        node: None,
        proto: relevant.iter().find_map(|hop| hop.proto.clone()),
        host: relevant.iter().find_map(|hop| hop.host.clone()),
        port: None,
    };
    Some(forwarded_origin(call, relevant.first().and_then(|hop| hop.node.as_ref()), reported))
}

fn from_x_forwarded(trust: &Trust, call: &ApplicationCall) -> Option<RequestOrigin> {
    let x = parse::x_forwarded(call.request().headers())?;
    let index = client_index(trust, call.request().remote_addr().map(|remote| remote.ip()), &x.hops)?;
    fn pick<T: Clone>(list: &[Option<T>], index: Option<usize>, hops: usize) -> Option<T> {
        match index {
            Some(index) if list.len() == hops => list[index].clone(),
            _ => list.last().cloned().flatten(),
        }
    }
    let hops = x.hops.len();
    let reported = Hop {
        node: None,
        proto: pick(&x.proto, index, hops),
        host: pick(&x.host, index, hops),
        port: pick(&x.port, index, hops),
    };
    Some(forwarded_origin(call, index.and_then(|index| x.hops[index].node.as_ref()), reported))
}

fn install_with(
    plugin: &mut PluginBuilder<'_>,
    config: &ForwardedHeadersConfig,
    read: fn(&Trust, &ApplicationCall) -> Option<RequestOrigin>,
) -> Result<Arc<()>> {
    let trust = config.trust()?;
    plugin.pipeline_mut().pipeline_mut().intercept_sync(&ApplicationCallPipeline::SETUP, move |ctx| {
        let call = ctx.call();
        if let Some(origin) = read(&trust, call) {
            call.attributes().put(&FORWARDED_ORIGIN, origin);
        }
        Ok(())
    });
    Ok(Arc::new(()))
}

impl Plugin for ForwardedHeaders {
    type Config = ForwardedHeadersConfig;
    type Instance = ();

    fn key(&self) -> &'static str {
        "ForwardedHeaders"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: ForwardedHeadersConfig) -> Result<Arc<()>> {
        install_with(plugin, &config, from_forwarded)
    }
}

impl Plugin for XForwardedHeaders {
    type Config = ForwardedHeadersConfig;
    type Instance = ();

    fn key(&self) -> &'static str {
        "XForwardedHeaders"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, config: ForwardedHeadersConfig) -> Result<Arc<()>> {
        install_with(plugin, &config, from_x_forwarded)
    }
}
