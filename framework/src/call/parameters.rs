//! `Parameters`: path and query parameters, typed on the way out.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// Named string values with repeats allowed: a call's path parameters (from routing) followed by its query
/// parameters. Read them as strings or parse them typed; [`require`](Self::require) answers 400 with a
/// message naming the parameter when it is missing or does not parse.
///
/// ```
/// use rotor::call::Parameters;
///
/// let parameters = Parameters::parse_query("id=42&tag=a&tag=b&name=J%C3%BCrgen+K");
/// assert_eq!(parameters.require::<u64>("id").unwrap(), 42);
/// assert_eq!(parameters.get_all("tag").collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(parameters.get("name"), Some("Jürgen K"));
/// let error = parameters.require::<u64>("page").unwrap_err();
/// assert_eq!(error.status(), 400);
/// assert!(error.to_string().contains("`page`"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Parameters {
    entries: Vec<(Cow<'static, str>, String)>,
}

impl Parameters {
    /// No parameters.
    pub const fn new() -> Self {
        Parameters { entries: Vec::new() }
    }

    /// Parses a URL query string (`a=1&b=two`), percent-decoding names and values and reading `+` as a space.
    /// Pairs without `=` have an empty value; empty pairs are skipped.
    pub fn parse_query(query: &str) -> Self {
        let entries = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (Cow::Owned(decode_query_component(name)), decode_query_component(value))
            })
            .collect();
        Parameters { entries }
    }

    /// Appends a value under `name`.
    pub fn append(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Appends every entry of `other` after this one's.
    pub fn extend(&mut self, other: &Parameters) {
        self.entries.extend(other.entries.iter().cloned());
    }

    /// The first value under `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value under `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// True if there is a value under `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every `(name, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(key, value)| (&**key, value.as_str()))
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first value under `name` parsed as `T`; `None` when absent.
    ///
    /// # Errors
    /// A 400 error naming the parameter, the value and the expected type when the value does not parse.
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let Some(value) = self.get(name) else { return Ok(None) };
        value.parse::<T>().map(Some).map_err(|error| {
            Error::bad_request(format!(
                "parameter `{name}` has value {value:?}, which is not a valid {}: {error}",
                short_type_name::<T>()
            ))
        })
    }

    /// The first value under `name` parsed as `T`.
    ///
    /// # Errors
    /// A 400 error naming the parameter when it is missing or does not parse as `T`.
    pub fn require<T>(&self, name: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.parse(name)?.ok_or_else(|| Error::bad_request(format!("parameter `{name}` is missing")))
    }
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// `u64` rather than `core::primitive::u64`, `Uuid` rather than `uuid::Uuid`.
fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    match name.find('<') {
        Some(generic) => name[..generic].rsplit("::").next().unwrap_or(name),
        None => name.rsplit("::").next().unwrap_or(name),
    }
}

fn decode_query_component(component: &str) -> String {
    let plus_as_space: Cow<'_, str> =
        if component.contains('+') { Cow::Owned(component.replace('+', " ")) } else { Cow::Borrowed(component) };
    percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_handles_edge_cases() {
        let parameters = Parameters::parse_query("&a&b=&c=1=2&&d=%zz&e=%41");
        assert_eq!(parameters.get("a"), Some(""));
        assert_eq!(parameters.get("b"), Some(""));
        assert_eq!(parameters.get("c"), Some("1=2"));
        assert_eq!(parameters.get("d"), Some("%zz"), "a malformed escape is kept as written");
        assert_eq!(parameters.get("e"), Some("A"));
        assert_eq!(parameters.len(), 5);
    }

    #[test]
    fn typed_reads_name_the_parameter_and_type() {
        let mut parameters = Parameters::new();
        parameters.append("id", "x1");
        let error = parameters.require::<u32>("id").unwrap_err();
        assert!(error.is_bad_request());
        assert_eq!(
            error.message(),
            "parameter `id` has value \"x1\", which is not a valid u32: invalid digit found in string"
        );
        assert_eq!(parameters.parse::<u32>("missing").unwrap(), None);
        assert_eq!(parameters.require::<String>("missing").unwrap_err().message(), "parameter `missing` is missing");
    }
}
