//! The strict chunked transfer-coding decoder (RFC 9112 §7.1), sans-IO.
//!
//! Chunked framing decides where one request ends and the next begins, so any leniency here is a
//! request-smuggling vector: every deviation from the grammar is an error, every line must end in CRLF,
//! and nothing past the final CRLF of the body is ever consumed.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Carriage return.
const CR: u8 = b'\r';
/// Line feed.
const LF: u8 = b'\n';

/// Decodes a chunked request body from the front of a read buffer, consuming what it uses (sans-IO: the caller
/// reads from the socket into the buffer and calls again on `NeedMore`).
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    /// Where in the chunked grammar the front of the buffer is.
    state: State,
    /// Longest chunk-size line (size plus extensions, without its CRLF) accepted.
    max_line: usize,
    /// Most bytes of trailer field lines (each with its CRLF) accepted.
    max_trailer: usize,
}

/// Position in the chunked grammar; `scanned` counts bytes of a pending line already known to hold no CR or LF.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Expecting a chunk-size line.
    SizeLine { scanned: usize },
    /// Inside chunk data, with `remaining` bytes still to hand out.
    Data { remaining: u64 },
    /// Expecting the CRLF that closes chunk data.
    DataEnd,
    /// Expecting a trailer field line or the final empty line; `consumed` trailer bytes were already discarded.
    Trailer { consumed: usize, scanned: usize },
    /// The body is complete.
    Done,
    /// The body is malformed; the error repeats on every call.
    Failed(ChunkedError),
}

/// One step of decoding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Body bytes (a slice of one chunk's data, split off the buffer with `split_to(..).freeze()`, never copied).
    Data(Bytes),
    /// The buffer holds no complete next element: read more bytes and call again.
    NeedMore,
    /// The last chunk and the trailer section (discarded) have been consumed: the body is complete; the buffer
    /// now starts at the next request.
    End,
}

/// Why a chunked body was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkedError {
    /// The chunk size is missing or not plain hexadecimal.
    InvalidSize,
    /// The chunk size does not fit in a `u64`.
    SizeTooLarge,
    /// The chunk-size line is longer than the configured limit.
    LineTooLong,
    /// A line or chunk data is not followed by CRLF.
    MissingCrlf,
    /// A chunk extension does not follow the grammar.
    InvalidExtension,
    /// The trailer section is larger than the configured limit.
    TrailerTooLarge,
    /// A trailer line is not a valid field line.
    InvalidTrailer,
}

impl fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidSize => "a chunk size is not a hexadecimal number",
            Self::SizeTooLarge => "a chunk size does not fit in 64 bits",
            Self::LineTooLong => "a chunk-size line is too long",
            Self::MissingCrlf => "a chunk line or chunk data is not followed by crlf",
            Self::InvalidExtension => "a chunk extension is malformed",
            Self::TrailerTooLarge => "the trailer section is too large",
            Self::InvalidTrailer => "a trailer field line is malformed",
        })
    }
}

impl std::error::Error for ChunkedError {}

impl ChunkedDecoder {
    /// `max_line`: the longest chunk-size line (size plus extensions) accepted; `max_trailer`: the most bytes of
    /// trailer section accepted.
    pub(crate) fn new(max_line: usize, max_trailer: usize) -> Self {
        Self { state: State::SizeLine { scanned: 0 }, max_line, max_trailer }
    }

    /// True once `End` has been returned.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Decodes the next element from the front of `buffer`.
    pub(crate) fn decode(&mut self, buffer: &mut BytesMut) -> Result<Decoded, ChunkedError> {
        let result = self.step(buffer);
        if let Err(error) = result {
            self.state = State::Failed(error);
        }
        result
    }

    /// Runs the state machine until it yields data, needs more bytes, ends, or fails.
    fn step(&mut self, buffer: &mut BytesMut) -> Result<Decoded, ChunkedError> {
        loop {
            match self.state {
                State::SizeLine { mut scanned } => {
                    let found = find_line(buffer, &mut scanned, self.max_line, ChunkedError::LineTooLong);
                    self.state = State::SizeLine { scanned };
                    let Some(len) = found? else { return Ok(Decoded::NeedMore) };
                    let size = parse_size_line(&buffer[..len])?;
                    buffer.advance(len + 2);
                    self.state = if size == 0 {
                        State::Trailer { consumed: 0, scanned: 0 }
                    } else {
                        State::Data { remaining: size }
                    };
                }
                State::Data { remaining } => {
                    if buffer.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    // A size beyond usize cannot be buffered whole anyway; hand out what is there.
                    let take = usize::try_from(remaining).map_or(buffer.len(), |left| left.min(buffer.len()));
                    let left = remaining - take as u64;
                    self.state = if left == 0 { State::DataEnd } else { State::Data { remaining: left } };
                    return Ok(Decoded::Data(buffer.split_to(take).freeze()));
                }
                // A wrong first byte fails at once instead of waiting for a second one.
                State::DataEnd => match (buffer.first(), buffer.get(1)) {
                    (None, _) | (Some(&CR), None) => return Ok(Decoded::NeedMore),
                    (Some(&CR), Some(&LF)) => {
                        buffer.advance(2);
                        self.state = State::SizeLine { scanned: 0 };
                    }
                    _ => return Err(ChunkedError::MissingCrlf),
                },
                State::Trailer { consumed, mut scanned } => {
                    // Field lines are charged with their CRLF; the final empty line is always allowed.
                    let limit = self.max_trailer.saturating_sub(consumed).saturating_sub(2);
                    let found = find_line(buffer, &mut scanned, limit, ChunkedError::TrailerTooLarge);
                    self.state = State::Trailer { consumed, scanned };
                    let Some(len) = found? else { return Ok(Decoded::NeedMore) };
                    if len == 0 {
                        buffer.advance(2);
                        self.state = State::Done;
                        return Ok(Decoded::End);
                    }
                    validate_field_line(&buffer[..len])?;
                    buffer.advance(len + 2);
                    self.state = State::Trailer { consumed: consumed + len + 2, scanned: 0 };
                }
                State::Done => return Ok(Decoded::End),
                State::Failed(error) => return Err(error),
            }
        }
    }
}

/// Finds the CRLF ending the line at the front of `buffer`, whose content may be at most `limit` bytes.
///
/// Returns the content length once the whole line is present, `None` while more bytes are needed. `scanned`
/// carries the CR/LF-free prefix across calls so that a line arriving byte by byte is scanned once.
fn find_line(
    buffer: &[u8],
    scanned: &mut usize,
    limit: usize,
    too_long: ChunkedError,
) -> Result<Option<usize>, ChunkedError> {
    // Only the first `limit + 1` bytes can hold the CR of an acceptable line, which bounds the scan.
    let window = &buffer[..buffer.len().min(limit.saturating_add(1))];
    let start = (*scanned).min(window.len());
    let Some(offset) = window[start..].iter().position(|&byte| byte == CR || byte == LF) else {
        *scanned = window.len();
        return if buffer.len() > limit { Err(too_long) } else { Ok(None) };
    };
    let end = start + offset;
    *scanned = end;
    match (window[end], buffer.get(end + 1)) {
        (CR, Some(&LF)) => Ok(Some(end)),
        (CR, None) => Ok(None),
        _ => Err(ChunkedError::MissingCrlf),
    }
}

/// Parses `chunk-size [ chunk-ext ]` (without CRLF) into the chunk size, validating and ignoring extensions.
fn parse_size_line(line: &[u8]) -> Result<u64, ChunkedError> {
    let digits = line.iter().take_while(|byte| byte.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ChunkedError::InvalidSize);
    }
    let mut size = 0u64;
    for (count, &digit) in line[..digits].iter().skip_while(|&&byte| byte == b'0').enumerate() {
        if count >= 16 {
            return Err(ChunkedError::SizeTooLarge);
        }
        let value = char::from(digit).to_digit(16).ok_or(ChunkedError::InvalidSize)?;
        size = size << 4 | u64::from(value);
    }
    let extensions = &line[digits..];
    // Whitespace after the size is only BWS before a `;`; anything else means the size itself is bad.
    if !extensions.is_empty() && skip_bws(extensions).first() != Some(&b';') {
        return Err(ChunkedError::InvalidSize);
    }
    validate_extensions(extensions).ok_or(ChunkedError::InvalidExtension)?;
    Ok(size)
}

/// Checks `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] )` covering the whole of `rest`.
fn validate_extensions(mut rest: &[u8]) -> Option<()> {
    while !rest.is_empty() {
        rest = skip_bws(skip_bws(rest).strip_prefix(b";")?);
        rest = skip_token(rest)?;
        if let Some(value) = skip_bws(rest).strip_prefix(b"=") {
            let value = skip_bws(value);
            rest = skip_token(value).or_else(|| skip_quoted_string(value))?;
        }
    }
    Some(())
}

/// Checks `field-name ":" field-value` of one trailer line (without CRLF); an obs-fold fails the name.
fn validate_field_line(line: &[u8]) -> Result<(), ChunkedError> {
    let value = skip_token(line).and_then(|rest| rest.strip_prefix(b":")).ok_or(ChunkedError::InvalidTrailer)?;
    if value.contains(&0) {
        return Err(ChunkedError::InvalidTrailer);
    }
    Ok(())
}

/// Skips optional whitespace (SP / HTAB).
fn skip_bws(input: &[u8]) -> &[u8] {
    let count = input.iter().take_while(|&&byte| byte == b' ' || byte == b'\t').count();
    &input[count..]
}

/// Skips a non-empty token (RFC 9110 §5.6.2), or returns `None` if none starts here.
fn skip_token(input: &[u8]) -> Option<&[u8]> {
    let is_tchar = |byte: &&u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(byte);
    let count = input.iter().take_while(is_tchar).count();
    (count > 0).then(|| &input[count..])
}

/// Skips a quoted-string with quoted-pairs (RFC 9110 §5.6.4), or returns `None` if it is malformed or unterminated.
fn skip_quoted_string(input: &[u8]) -> Option<&[u8]> {
    let is_text = |byte: u8| byte == b'\t' || byte == b' ' || (0x21..=0x7e).contains(&byte) || byte >= 0x80;
    let mut rest = input.strip_prefix(b"\"")?;
    loop {
        let (&byte, after) = rest.split_first()?;
        rest = match byte {
            b'"' => return Some(after),
            b'\\' => after.split_first().filter(|(escaped, _)| is_text(**escaped))?.1,
            _ if is_text(byte) => after,
            _ => return None,
        };
    }
}

/// Unit tests, most of them checking that split feeding agrees with feeding at once.
#[cfg(test)]
mod tests {
    use super::*;

    /// Size-line limit used by the tests.
    const MAX_LINE: usize = 32;
    /// Trailer limit used by the tests.
    const MAX_TRAILER: usize = 64;

    /// What a whole decoding run produced.
    #[derive(Debug, PartialEq)]
    struct Outcome {
        /// All data returned, concatenated.
        body: Vec<u8>,
        /// `Ok(true)` for `End`, `Ok(false)` for `NeedMore` with all input fed.
        result: Result<bool, ChunkedError>,
        /// Bytes taken off the front of the input.
        consumed: usize,
    }

    /// Decodes `input`, appending pieces whose sizes `next_piece` picks whenever the decoder needs more.
    fn feed(input: &[u8], limits: (usize, usize), next_piece: &mut dyn FnMut() -> usize) -> Outcome {
        let mut decoder = ChunkedDecoder::new(limits.0, limits.1);
        let (mut buffer, mut fed, mut body) = (BytesMut::new(), 0, Vec::new());
        for _ in 0..=2 * input.len() + 2 {
            let result = match decoder.decode(&mut buffer) {
                Ok(Decoded::Data(data)) => {
                    assert!(!data.is_empty(), "empty data for {input:?}");
                    body.extend_from_slice(&data);
                    continue;
                }
                Ok(Decoded::NeedMore) if fed < input.len() => {
                    let piece = next_piece().clamp(1, input.len() - fed);
                    buffer.extend_from_slice(&input[fed..fed + piece]);
                    fed += piece;
                    continue;
                }
                Ok(Decoded::NeedMore) => Ok(false),
                Ok(Decoded::End) => Ok(true),
                Err(error) => Err(error),
            };
            let consumed = fed - buffer.len();
            assert_eq!(&input[consumed..fed], &buffer[..], "bytes left in the buffer were altered");
            let again = decoder.decode(&mut buffer).map(|decoded| decoded == Decoded::End);
            assert_eq!(again, result, "final state is not sticky");
            assert_eq!(consumed, fed - buffer.len(), "a repeated call consumed bytes");
            assert_eq!(decoder.is_done(), result == Ok(true));
            return Outcome { body, result, consumed };
        }
        panic!("decoder loops on {input:?}");
    }

    /// Decodes `input` at once, byte by byte and in pieces of 3, asserts they agree, and returns the outcome.
    fn decode_all(input: &[u8], limits: (usize, usize)) -> Outcome {
        let at_once = feed(input, limits, &mut || usize::MAX);
        assert_eq!(feed(input, limits, &mut || 1), at_once, "byte-by-byte differs for {input:?}");
        assert_eq!(feed(input, limits, &mut || 3), at_once, "split by 3 differs for {input:?}");
        at_once
    }

    /// Asserts `input` decodes to `body` with End exactly before `rest`.
    fn assert_body(input: &str, body: &str, rest: &str) {
        let outcome = decode_all(format!("{input}{rest}").as_bytes(), (MAX_LINE, MAX_TRAILER));
        let expected = Outcome { body: body.into(), result: Ok(true), consumed: input.len() };
        assert_eq!(outcome, expected, "for {input:?}");
    }

    /// Asserts `input` fails with `error`.
    fn assert_error(input: &str, error: ChunkedError) {
        assert_eq!(decode_all(input.as_bytes(), (MAX_LINE, MAX_TRAILER)).result, Err(error), "for {input:?}");
    }

    /// Simple, multi-chunk, empty, zero-padded and upper-case bodies.
    #[test]
    fn decodes_valid_bodies() {
        assert_body("5\r\nhello\r\n0\r\n\r\n", "hello", "");
        assert_body("3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", "abcdef", "");
        assert_body("0\r\n\r\n", "", "");
        assert_body("000a\r\n0123456789\r\n000\r\n\r\n", "0123456789", "");
        assert_body("A\r\n0123456789\r\nF\r\n0123456789ABCDE\r\n0\r\n\r\n", "01234567890123456789ABCDE", "");
    }

    /// Token and quoted-string extensions, with BWS, are validated and ignored.
    #[test]
    fn accepts_extensions() {
        assert_body("3;name=value\r\nabc\r\n0;last\r\n\r\n", "abc", "");
        assert_body("3 ; a = b ;flag;q=\"x \\\"y\\\" ;\"\r\nabc\r\n0\r\n\r\n", "abc", "");
        assert_body("1;q=\"\"\t;z\r\nx\r\n0\r\n\r\n", "x", "");
    }

    /// Trailer fields are consumed but not returned.
    #[test]
    fn discards_trailers() {
        assert_body("3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\r\n\r\n", "abc", "");
    }

    /// A pipelined request after the body stays in the buffer.
    #[test]
    fn leaves_the_next_request_untouched() {
        assert_body("3\r\nabc\r\n0\r\n\r\n", "abc", "GET / HTTP/1.1\r\n\r\n");
        assert_body("0\r\nA: b\r\n\r\n", "", "\r\n\r\n0\r\n");
    }

    /// Data is handed out before its chunk is complete.
    #[test]
    fn streams_partial_chunks() {
        let mut decoder = ChunkedDecoder::new(MAX_LINE, MAX_TRAILER);
        let mut buffer = BytesMut::from(&b"a\r\nhello"[..]);
        assert_eq!(decoder.decode(&mut buffer), Ok(Decoded::Data(Bytes::from_static(b"hello"))));
        assert_eq!(decoder.decode(&mut buffer), Ok(Decoded::NeedMore));
        buffer.extend_from_slice(b"world\r\n0\r\n\r\nnext");
        assert_eq!(decoder.decode(&mut buffer), Ok(Decoded::Data(Bytes::from_static(b"world"))));
        assert_eq!(decoder.decode(&mut buffer), Ok(Decoded::End));
        assert!(decoder.is_done());
        assert_eq!(&buffer[..], b"next");
    }

    /// One or more concrete inputs per error variant.
    #[test]
    fn rejects_malformed_bodies() {
        use ChunkedError::*;
        let cases = [
            ("zz\r\n", InvalidSize),
            ("\r\n", InvalidSize),
            ("3 x\r\n", InvalidSize),
            ("3 \r\nabc\r\n", InvalidSize),
            ("-1\r\n", InvalidSize),
            ("0x3\r\n", InvalidSize),
            (" 3\r\n", InvalidSize),
            ("ffffffffffffffffff\r\n", SizeTooLarge),
            ("00010000000000000000\r\n", SizeTooLarge),
            ("3\nabc\r\n", MissingCrlf),
            ("3\rabc\r\n", MissingCrlf),
            ("3\r\nabcdef\r\n0\r\n\r\n", MissingCrlf),
            ("3\r\nabc\n0\r\n\r\n", MissingCrlf),
            ("0\r\nA: b\n\r\n", MissingCrlf),
            ("0\r\n\n", MissingCrlf),
            ("3;=x\r\n", InvalidExtension),
            ("3;a=\"unterminated\r\n", InvalidExtension),
            ("3;a=\r\n", InvalidExtension),
            ("3;a \r\n", InvalidExtension),
            ("3;a=b\"c\"\r\n", InvalidExtension),
            ("3;a=\"\0\"\r\n", InvalidExtension),
            ("0\r\nno colon\r\n\r\n", InvalidTrailer),
            ("0\r\nA : b\r\n\r\n", InvalidTrailer),
            ("0\r\nA: b\r\n folded\r\n\r\n", InvalidTrailer),
            ("0\r\nA: \0\r\n\r\n", InvalidTrailer),
        ];
        for (input, error) in cases {
            assert_error(input, error);
        }
    }

    /// Limits accept the longest allowed input and reject one byte more as soon as it is seen.
    #[test]
    fn limits_line_and_trailer_length() {
        let longest = format!("{}1\r\nx\r\n0\r\n\r\n", "0".repeat(MAX_LINE - 1));
        assert_body(&longest, "x", "");
        // The limit must be proven from the bytes at hand, without waiting for a CRLF that never comes.
        let mut decoder = ChunkedDecoder::new(MAX_LINE, MAX_TRAILER);
        let mut buffer = BytesMut::from("1".repeat(MAX_LINE + 1).as_bytes());
        assert_eq!(decoder.decode(&mut buffer), Err(ChunkedError::LineTooLong));
        assert_error(&"1".repeat(MAX_LINE + 1), ChunkedError::LineTooLong);

        let field = format!("A:{}\r\n", "v".repeat(MAX_TRAILER - 4));
        assert_body(&format!("0\r\n{field}\r\n"), "", "");
        assert_error(&format!("0\r\n{field}B:\r\n\r\n"), ChunkedError::TrailerTooLarge);
        assert_error(&format!("0\r\nA:{}", "v".repeat(MAX_TRAILER)), ChunkedError::TrailerTooLarge);
    }

    /// Error messages are short lower-case sentences.
    #[test]
    fn errors_display_in_lower_case() {
        use ChunkedError::*;
        for error in
            [InvalidSize, SizeTooLarge, LineTooLong, MissingCrlf, InvalidExtension, TrailerTooLarge, InvalidTrailer]
        {
            let message = error.to_string();
            assert!(!message.is_empty() && message == message.to_lowercase(), "{message}");
        }
    }

    /// Random inputs and mutated valid bodies: no panic, splits agree, consumption stays within the input.
    #[test]
    fn fuzz_split_feeding_agrees() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % bound as u64).unwrap()
        };
        let alphabet = b"0123456789abcdefABCDEF;=\"\\ \t\r\n:xz-\0";
        let valid: [&[u8]; 3] = [
            b"5\r\nhello\r\n0\r\n\r\n",
            b"3;a=b\r\nabc\r\n1;q=\"x\\\"y\"\r\nd\r\n0\r\nT: v\r\n\r\nGET",
            b"00a\r\n0123456789\r\n0\r\nA:b\r\nC: d\r\n\r\n",
        ];
        let limits = (12, 24);
        for round in 0..3000 {
            let mut input: Vec<u8> = if round % 2 == 0 {
                (0..random(40)).map(|_| alphabet[random(alphabet.len())]).collect()
            } else {
                valid[random(valid.len())].to_vec()
            };
            for _ in 0..random(4) {
                let at = random(input.len() + 1);
                match random(3) {
                    0 => input.insert(at, alphabet[random(alphabet.len())]),
                    1 if at < input.len() => {
                        input.remove(at);
                    }
                    _ if at < input.len() => input[at] = alphabet[random(alphabet.len())],
                    _ => {}
                }
            }
            let outcome = decode_all(&input, limits);
            let random_split = feed(&input, limits, &mut || 1 + random(8));
            assert_eq!(random_split, outcome, "random split differs for {input:?}");
            assert!(outcome.consumed <= input.len());
        }
    }
}
