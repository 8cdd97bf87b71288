//! Parsing `Forwarded` (RFC 7239) and `X-Forwarded-*` into hops; a malformed header parses to nothing.

use std::net::IpAddr;

use http::HeaderMap;

/// What one proxy reported about the hop before it. Fields a proxy did not report are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Hop {
    /// The `for` node: who connected to the proxy.
    pub(super) node: Option<Node>,
    /// The scheme the request came in with, lower-case and well-formed.
    pub(super) proto: Option<String>,
    /// The `Host` the request came in with (host, optionally `:port`), well-formed.
    pub(super) host: Option<String>,
    /// The port the request came in on (`X-Forwarded-Port`).
    pub(super) port: Option<u16>,
}

/// A `for` node: an address (with an optional port, ignored) or an identifier (`unknown`, `_hidden`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Node {
    pub(super) ip: Option<IpAddr>,
    pub(super) name: String,
}

/// Parses a node; `None` if it is neither an address nor an identifier (RFC 7239 section 6).
pub(super) fn parse_node(text: &str) -> Option<Node> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let ip = address.parse::<std::net::Ipv6Addr>().ok()?;
        if !(after.is_empty() || valid_node_port(after.strip_prefix(':')?)) {
            return None;
        }
        return Some(Node { ip: Some(IpAddr::V6(ip)), name: ip.to_string() });
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Node { ip: Some(ip), name: ip.to_string() });
    }
    if let Some((address, port)) = text.split_once(':') {
        let ip = address.parse::<std::net::Ipv4Addr>().ok()?;
        return valid_node_port(port).then(|| Node { ip: Some(IpAddr::V4(ip)), name: ip.to_string() });
    }
    let identifier = !text.is_empty()
        && text.len() <= 128
        && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    identifier.then(|| Node { ip: None, name: text.to_owned() })
}

fn valid_node_port(port: &str) -> bool {
    port.parse::<u16>().is_ok()
        || (port.starts_with('_') && port.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'))
}

/// A scheme (`https`), lower-cased, if well-formed.
pub(super) fn parse_proto(text: &str) -> Option<String> {
    let text = text.trim();
    let mut bytes = text.bytes();
    let first = bytes.next()?;
    let valid = first.is_ascii_alphabetic()
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'))
        && text.len() <= 32;
    valid.then(|| text.to_ascii_lowercase())
}

/// A host with an optional port, if it is a valid authority without user info.
pub(super) fn parse_host(text: &str) -> Option<String> {
    let text = text.trim();
    let authority = text.parse::<http::uri::Authority>().ok()?;
    (!text.is_empty() && !text.contains('@')).then(|| authority.as_str().to_owned())
}

/// The values of every `name` header, joined as one comma-separated list; `None` if there is none or one is
/// not visible ASCII.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut joined: Option<String> = None;
    for value in headers.get_all(name) {
        let value = value.to_str().ok()?;
        match &mut joined {
            Some(joined) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => joined = Some(value.to_owned()),
        }
    }
    joined
}

/// The hops of the `Forwarded` headers, client-most first; `None` if there is none or it is malformed.
pub(super) fn forwarded(headers: &HeaderMap) -> Option<Vec<Hop>> {
    parse_forwarded(&joined(headers, "forwarded")?)
}

/// RFC 7239: `1#( [pair] *( ";" [pair] ) )`, `pair = token "=" ( token / quoted-string )`, where an unquoted
/// value may also hold `:`, `[` and `]` (an address with a port that a proxy forgot to quote). A parameter given
/// twice in one element, or a value that does not parse, makes the whole header malformed.
pub(super) fn parse_forwarded(input: &str) -> Option<Vec<Hop>> {
    let bytes = input.as_bytes();
    let mut at = 0;
    let mut hops = Vec::new();
    let mut hop = Hop::default();
    let mut seen = [false; 3];
    loop {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        let Some(&byte) = bytes.get(at) else { break };
        if byte == b',' || byte == b';' {
            if byte == b',' && hop != Hop::default() {
                hops.push(std::mem::take(&mut hop));
                seen = [false; 3];
            }
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_tchar(bytes[at]) {
            at += 1;
        }
        if start == at || bytes.get(at) != Some(&b'=') {
            return None;
        }
        let name = input[start..at].to_ascii_lowercase();
        at += 1;
        let value = if bytes.get(at) == Some(&b'"') {
            let (value, end) = quoted_string(bytes, at)?;
            at = end;
            value
        } else {
            // Lenient where proxies are sloppy: an unquoted `for=[::1]:80` or `for=1.2.3.4:80` is accepted.
            let start = at;
            while at < bytes.len() && (is_tchar(bytes[at]) || matches!(bytes[at], b':' | b'[' | b']')) {
                at += 1;
            }
            if start == at {
                return None;
            }
            input[start..at].to_owned()
        };
        let slot = match name.as_str() {
            "for" => 0,
            "proto" => 1,
            "host" => 2,
            _ => usize::MAX,
        };
        if let Some(seen) = seen.get_mut(slot) {
            if std::mem::replace(seen, true) {
                return None;
            }
        }
        match slot {
            0 => hop.node = Some(parse_node(&value)?),
            1 => hop.proto = Some(parse_proto(&value)?),
            2 => hop.host = Some(parse_host(&value)?),
            _ => {}
        }
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
            at += 1;
        }
        if at < bytes.len() && !matches!(bytes[at], b',' | b';') {
            return None;
        }
    }
    if hop != Hop::default() {
        hops.push(hop);
    }
    Some(hops)
}

/// A quoted string starting at `at` (the opening quote): its unescaped text and the index after it.
fn quoted_string(bytes: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut text = Vec::new();
    at += 1;
    loop {
        match *bytes.get(at)? {
            b'"' => return Some((String::from_utf8(text).ok()?, at + 1)),
            b'\\' => {
                text.push(*bytes.get(at + 1)?);
                at += 2;
            }
            byte => {
                text.push(byte);
                at += 1;
            }
        }
    }
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The `X-Forwarded-*` headers: the hops of `X-Forwarded-For` (client-most first, a malformed entry gives a
/// hop without a node), and the `Proto`, `Host` and `Port` lists. `None` if no such header is there.
pub(super) struct XForwarded {
    pub(super) hops: Vec<Hop>,
    pub(super) proto: Vec<Option<String>>,
    pub(super) host: Vec<Option<String>>,
    pub(super) port: Vec<Option<u16>>,
}

pub(super) fn x_forwarded(headers: &HeaderMap) -> Option<XForwarded> {
    let list = |name: &str| -> Option<Vec<String>> {
        joined(headers, name).map(|joined| joined.split(',').map(str::to_owned).collect())
    };
    let (for_, proto, host, port) =
        (list("x-forwarded-for"), list("x-forwarded-proto"), list("x-forwarded-host"), list("x-forwarded-port"));
    if for_.is_none() && proto.is_none() && host.is_none() && port.is_none() {
        return None;
    }
    let hops = for_.unwrap_or_default().iter().map(|node| Hop { node: parse_node(node), ..Hop::default() }).collect();
    Some(XForwarded {
        hops,
        proto: proto.unwrap_or_default().iter().map(|value| parse_proto(value)).collect(),
        host: host.unwrap_or_default().iter().map(|value| parse_host(value)).collect(),
        port: port.unwrap_or_default().iter().map(|value| value.trim().parse().ok()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_parses_elements_pairs_and_quotes() {
        let hops =
            parse_forwarded(r#"for=192.0.2.43;proto=HTTPS;host=example.com, for="[2001:db8::17]:4711";by=x"#).unwrap();
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].node.as_ref().unwrap().name, "192.0.2.43");
        assert_eq!(hops[0].proto.as_deref(), Some("https"));
        assert_eq!(hops[0].host.as_deref(), Some("example.com"));
        assert_eq!(hops[1].node.as_ref().unwrap().ip, Some("2001:db8::17".parse().unwrap()));
        assert_eq!(parse_forwarded(r#"for="_hidden", for=unknown"#).unwrap()[1].node.as_ref().unwrap().ip, None);
    }

    #[test]
    fn malformed_forwarded_is_refused() {
        for bad in [
            "for",
            "for=",
            "=x",
            r#"for="unterminated"#,
            "for=1.2.3.4;for=5.6.7.8",
            "for=1.2.3.4 junk",
            "for=[::1",
            "for=not_an#address",
            "proto=1http",
            "host=a@b",
            "for=\"1.2.3.4:99999\"",
        ] {
            assert_eq!(parse_forwarded(bad), None, "{bad}");
        }
        assert_eq!(parse_forwarded(",,;"), Some(Vec::new()));
    }

    #[test]
    fn nodes_take_addresses_ports_and_identifiers() {
        assert_eq!(parse_node("10.0.0.1:8080").unwrap().ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_node(" ::1 ").unwrap().ip, Some("::1".parse().unwrap()));
        assert_eq!(parse_node("[::1]:_x").unwrap().name, "::1");
        assert_eq!(parse_node("unknown").unwrap().ip, None);
        assert_eq!(parse_node(""), None);
        assert_eq!(parse_node("a b"), None);
    }
}
