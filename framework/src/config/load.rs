//! Reading HOCON (`application.conf`) into an [`ApplicationConfig`] with the `hocon-parser` crate.
//!
//! The document is parsed and its substitutions resolved by `hocon-parser`; the resulting tree is then
//! flattened into dotted keys. Every failure becomes a configuration [`Error`] that names the origin (the file),
//! the line and the column: `application.conf:12:5: expected }`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hocon::{HoconError, HoconValue, ParseOptions, ScalarType, TokenKind};

use super::{ApplicationConfig, ConfigValue};
use crate::{Error, Result};

/// Parses `text` (named `origin` in messages) with the environment variables `env`; includes are resolved
/// relative to `base_dir` when given.
pub(super) fn parse(text: &str, origin: &str, base_dir: Option<&Path>, env: Env<'_>) -> Result<ApplicationConfig> {
    let substitutions = check_tokens(text, origin)?;
    let env_map: HashMap<String, String> = match env {
        Env::Process => process_env(),
        Env::Lookup(lookup) => {
            let mut map = HashMap::new();
            for (name, list) in substitutions {
                if let Some(value) = lookup(&name) {
                    map.insert(name.clone(), value);
                }
                if list {
                    // `${X[]}` reads the list X_0, X_1, … up to the first absent index.
                    for index in 0..MAX_ENV_LIST {
                        let element = format!("{name}_{index}");
                        let Some(value) = lookup(&element) else { break };
                        map.insert(element, value);
                    }
                }
            }
            map
        }
    };
    let mut options = ParseOptions::defaults().with_origin_description(origin.to_owned()).with_env(env_map);
    if let Some(dir) = base_dir {
        options = options.with_base_dir(dir.to_path_buf());
    }
    let parsed = hocon::parse_string_with_options(text, options).map_err(|error| hocon_error(origin, error))?;
    let mut config = ApplicationConfig::new();
    for key in parsed.keys() {
        if let Some(value) = parsed.get(&quote_segment(key)) {
            flatten(&mut config, key.to_owned(), value);
        }
    }
    Ok(config)
}

/// The most elements read from the environment for one `${X[]}` list substitution.
const MAX_ENV_LIST: usize = 10_000;

/// Tokenizes `text` to reject what `hocon-parser` 1.14 would silently accept, and returns the substitutions
/// it names (`(name, is_list)`), so that an injected environment lookup (which cannot be enumerated) can be
/// turned into the map `hocon-parser` asks for.
///
/// `hocon-parser` stops reading a document without root braces at a stray `}` or `]` and drops everything
/// after it; here that is an error at the stray token.
fn check_tokens(text: &str, origin: &str) -> Result<Vec<(String, bool)>> {
    let tokens = hocon::tokenize(text).map_err(|error| hocon_error(origin, HoconError::Parse(error)))?;
    let mut depth = 0usize;
    let mut substitutions: Vec<(String, bool)> = Vec::new();
    for token in &tokens {
        match token.kind {
            TokenKind::LBrace | TokenKind::LBracket => depth += 1,
            TokenKind::RBrace | TokenKind::RBracket => {
                if depth == 0 {
                    let (closing, opening) = if token.kind == TokenKind::RBrace { ("}", "{") } else { ("]", "[") };
                    return Err(Error::config(format!(
                        "{origin}:{}:{}: unexpected `{closing}` with no open `{opening}`; remove it or add the \
                         missing `{opening}`",
                        token.line, token.col
                    )));
                }
                depth -= 1;
            }
            TokenKind::Substitution => {
                if let Some(payload) = &token.subst {
                    let name = payload.segments.iter().map(|segment| segment.text.as_str()).collect::<Vec<_>>();
                    let name = name.join(".");
                    if !name.is_empty() && !substitutions.iter().any(|(known, _)| *known == name) {
                        substitutions.push((name, payload.list_suffix));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(substitutions)
}

/// Where `${VAR}` substitutions find environment variables.
#[derive(Clone, Copy)]
pub(super) enum Env<'a> {
    /// The process environment (every variable, so included files see them too).
    Process,
    /// A lookup function; only the names written in the main document are asked for.
    Lookup(&'a dyn Fn(&str) -> Option<String>),
}

/// The process environment as UTF-8 pairs (an entry that is not UTF-8 is skipped, as if unset).
fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// A path segment quoted for `hocon::Config::get`, so that a key with dots or quotes is read as one segment.
fn quote_segment(key: &str) -> String {
    let mut quoted = String::with_capacity(key.len() + 2);
    quoted.push('"');
    for c in key.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Adds `value` under `key`: objects become dotted keys, a list of scalars a [`ConfigValue::List`], a list that
/// holds objects or lists one key per element (`key.0.name`), `null` nothing (absent, as in HOCON).
fn flatten(config: &mut ApplicationConfig, key: String, value: &HoconValue) {
    match value {
        HoconValue::Object(fields) => {
            for (name, field) in fields {
                flatten(config, format!("{key}.{name}"), field);
            }
        }
        HoconValue::Array(items) => {
            if items.iter().all(|item| matches!(item, HoconValue::Scalar(_))) {
                let values: Vec<String> = items.iter().filter_map(scalar_text).collect();
                config.values.insert(key, ConfigValue::List(values));
            } else {
                for (index, item) in items.iter().enumerate() {
                    flatten(config, format!("{key}.{index}"), item);
                }
            }
        }
        other => {
            if let Some(text) = scalar_text(other) {
                config.values.insert(key, ConfigValue::String(text));
            }
        }
    }
}

/// The text of a scalar (`None` for `null` and for anything that is not a scalar).
fn scalar_text(value: &HoconValue) -> Option<String> {
    match value {
        HoconValue::Scalar(scalar) if scalar.value_type != ScalarType::Null => Some(scalar.raw.clone()),
        _ => None,
    }
}

/// A `hocon-parser` error as a configuration error naming `origin:line:column`.
fn hocon_error(origin: &str, error: HoconError) -> Error {
    let message = match &error {
        HoconError::Parse(parse) => {
            format!("{origin}:{}:{}: {}; fix the HOCON syntax at that position", parse.line, parse.col, parse.message)
        }
        HoconError::Resolve(resolve) if resolve.message.starts_with("could not resolve substitution") => format!(
            "{origin}:{}:{}: {}; define `{}` in the file or set the environment variable, or write `${{?{}}}` to \
             make it optional",
            resolve.line, resolve.col, resolve.message, resolve.path, resolve.path
        ),
        HoconError::Resolve(resolve) => format!("{origin}:{}:{}: {}", resolve.line, resolve.col, resolve.message),
        HoconError::Config(config) if config.message.contains("rather than object at file root") => {
            // hocon-parser writes "origin: line:col: …"; say it the way the other errors do.
            let position = config
                .message
                .strip_prefix(origin)
                .and_then(|rest| rest.strip_prefix(": "))
                .and_then(|rest| rest.split(": ").next())
                .unwrap_or("1:1");
            format!(
                "{origin}:{position}: the document is a list, but a configuration file must be an object \
                 (`key = value` lines)"
            )
        }
        other => format!("{origin}: {other}"),
    };
    Error::config(message)
}

/// Reads `raw` as a HOCON duration (`10s`, `500 ms`, `2 minutes`; a bare number is milliseconds).
pub(super) fn duration(raw: &str) -> Option<Duration> {
    single_value(raw).get_duration("v").ok()
}

/// Reads `raw` as a HOCON byte size (`512k`, `10MB`, `1MiB`; a bare number is bytes).
pub(super) fn size(raw: &str) -> Option<u64> {
    single_value(raw).get_bytes("v").ok().and_then(|bytes| u64::try_from(bytes).ok())
}

/// A HOCON boolean (`true`/`yes`/`on`, `false`/`no`/`off`, any case).
pub(super) fn boolean(raw: &str) -> Option<bool> {
    HoconValue::Scalar(hocon::ScalarValue::string(raw.to_owned())).as_bool()
}

fn single_value(raw: &str) -> hocon::Config {
    hocon::Config::new(
        std::iter::once((String::from("v"), HoconValue::Scalar(hocon::ScalarValue::string(raw.to_owned())))).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substitution_names() {
        let names =
            check_tokens("a = ${PORT}\nb = ${? HOST }\nc = ${\"x.y\"}\nd = ${PORT}\ne = \"${NOT}\"\nf = ${?L[]}", "t");
        assert_eq!(
            names.unwrap(),
            [("PORT".into(), false), ("HOST".into(), false), ("x.y".into(), false), ("L".into(), true)]
        );
    }

    #[test]
    fn rejects_stray_closing_tokens() {
        let error = check_tokens("a = 1\n}\nb = 2\n", "application.conf").unwrap_err();
        assert!(error.to_string().starts_with("application.conf:2:1: unexpected `}`"), "{error}");
        let error = check_tokens("a = [1]]\n", "application.conf").unwrap_err();
        assert!(error.to_string().starts_with("application.conf:1:8: unexpected `]`"), "{error}");
        assert!(check_tokens("{ a = { b = [1, {c = 2}] } }", "t").is_ok());
    }

    #[test]
    fn quotes_segments() {
        assert_eq!(quote_segment(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn units() {
        assert_eq!(duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(duration("500"), Some(Duration::from_millis(500)));
        assert_eq!(duration("2 minutes"), Some(Duration::from_secs(120)));
        assert_eq!(duration("ten"), None);
        assert_eq!(size("512k"), Some(512 * 1024));
        assert_eq!(size("10MB"), Some(10_000_000));
        assert_eq!(size("1MiB"), Some(1024 * 1024));
        assert_eq!(size("-1"), None);
        assert_eq!(boolean("yes"), Some(true));
        assert_eq!(boolean("Off"), Some(false));
        assert_eq!(boolean("maybe"), None);
    }
}
