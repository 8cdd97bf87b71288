//! Content codings and the `Accept-Encoding` negotiation.

use http::HeaderValue;

/// A content coding the Compression plugin can produce and decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `gzip` (RFC 1952; `x-gzip` is read as an alias).
    Gzip,
    /// `deflate`: the zlib format (RFC 1950), as HTTP defines it.
    Deflate,
    /// `br` (Brotli, RFC 7932).
    Brotli,
    /// `zstd` (Zstandard, RFC 8878).
    Zstd,
}

impl Encoding {
    /// The token of the coding in `Content-Encoding` and `Accept-Encoding`.
    ///
    /// ```
    /// use rotor::plugins::compression::Encoding;
    ///
    /// assert_eq!(Encoding::Brotli.token(), "br");
    /// assert_eq!(Encoding::from_token("X-GZIP"), Some(Encoding::Gzip));
    /// ```
    pub const fn token(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }

    /// The coding a token names (ignoring case), if it is one of these.
    pub fn from_token(token: &str) -> Option<Encoding> {
        [Encoding::Gzip, Encoding::Deflate, Encoding::Brotli, Encoding::Zstd]
            .into_iter()
            .find(|encoding| token.eq_ignore_ascii_case(encoding.token()))
            .or_else(|| token.eq_ignore_ascii_case("x-gzip").then_some(Encoding::Gzip))
    }

    /// The token as a header value (static, no allocation).
    pub(crate) const fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(self.token())
    }
}

/// The preferred coding among `offered` (in the server's order of preference) for the `Accept-Encoding`
/// values `accept`: the highest q-value wins, ties go to the earlier in `offered`; a coding with `q=0` is
/// refused, `*` stands for every coding not named. `None` means: send the identity.
pub(crate) fn negotiate<'h>(accept: impl Iterator<Item = &'h str>, offered: &[Encoding]) -> Option<Encoding> {
    let mut qualities: [Option<f32>; 4] = [None; 4];
    let mut wildcard: Option<f32> = None;
    for item in accept.flat_map(|value| value.split(',')) {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim();
        if token.is_empty() {
            continue;
        }
        let quality = parts.find_map(parse_quality).unwrap_or(1.0);
        if token == "*" {
            wildcard = Some(quality);
        } else if let Some(encoding) = Encoding::from_token(token) {
            let slot = &mut qualities[encoding as usize];
            // The highest value given for a coding counts (`gzip;q=0, x-gzip` accepts gzip).
            *slot = Some(slot.map_or(quality, |previous| previous.max(quality)));
        }
    }
    let mut best: Option<(Encoding, f32)> = None;
    for &encoding in offered {
        let quality = qualities[encoding as usize].or(wildcard).unwrap_or(0.0);
        if quality > 0.0 && best.is_none_or(|(_, best)| quality > best) {
            best = Some((encoding, quality));
        }
    }
    best.map(|(encoding, _)| encoding)
}

/// The value of a `q=` parameter; a malformed one counts as 0 (refused) rather than 1.
fn parse_quality(parameter: &str) -> Option<f32> {
    let (name, value) = parameter.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    let value: f32 = value.trim().parse().unwrap_or(0.0);
    Some(if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Encoding; 4] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip, Encoding::Deflate];

    fn pick(accept: &str) -> Option<Encoding> {
        negotiate(std::iter::once(accept), &ALL)
    }

    #[test]
    fn qualities_then_server_order_decide() {
        assert_eq!(pick("gzip"), Some(Encoding::Gzip));
        assert_eq!(pick("gzip, deflate, br"), Some(Encoding::Brotli));
        assert_eq!(pick("gzip;q=1.0, br;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(pick("deflate, GZIP"), Some(Encoding::Gzip));
        assert_eq!(pick("x-gzip"), Some(Encoding::Gzip));
    }

    #[test]
    fn wildcards_and_refusals() {
        assert_eq!(pick("*"), Some(Encoding::Brotli));
        assert_eq!(pick("*, br;q=0"), Some(Encoding::Zstd));
        assert_eq!(pick("*;q=0"), None);
        assert_eq!(pick("identity"), None);
        assert_eq!(pick("identity;q=0"), None);
        assert_eq!(pick("gzip;q=0"), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("gzip;q=nonsense"), None);
        assert_eq!(pick(" , ;q=1, gzip ; q = 0.3"), Some(Encoding::Gzip));
        assert_eq!(negotiate(["gzip;q=0.2", "deflate"].into_iter(), &ALL), Some(Encoding::Deflate));
    }
}
