//! Trusted proxies: addresses and CIDR blocks, checked against the address a hop came from.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::Error;

/// An address block, `10.0.0.0/8` or `::1/128`; a bare address is a block of one.
///
/// ```
/// use rotor::plugins::forwarded_headers::IpBlock;
/// let block: IpBlock = "10.1.0.0/16".parse().unwrap();
/// assert!(block.contains("10.1.2.3".parse().unwrap()));
/// assert!(!block.contains("10.2.0.1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<IpBlock>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// True if `ip` is in this block. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as its IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

impl FromStr for IpBlock {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid =
            || Error::config(format!("invalid trusted proxy {text:?}: expected an IP address or a CIDR block"));
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network = canonical(address.parse::<IpAddr>().map_err(|_| invalid())?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|prefix| *prefix <= max).ok_or_else(invalid)?,
            None => max,
        };
        Ok(IpBlock { network, prefix })
    }
}

impl fmt::Debug for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Which hops are trusted to report the one before them.
#[derive(Clone, Debug)]
pub(super) enum Trust {
    All,
    Blocks(Vec<IpBlock>),
}

impl Trust {
    pub(super) fn trusts(&self, ip: Option<IpAddr>) -> bool {
        match self {
            Trust::All => true,
            Trust::Blocks(blocks) => ip.is_some_and(|ip| blocks.iter().any(|block| block.contains(ip))),
        }
    }
}
