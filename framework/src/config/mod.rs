//! `ApplicationConfig`: the application's configuration, read by dotted key.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// The configuration of an application: values under dotted keys (`rotor.deployment.port`), each a string or
/// a list of strings, read raw or typed.
///
/// Tests build one from pairs (as Ktor's `MapApplicationConfig`); typed reads name the key and the expected
/// type when a value does not parse.
///
/// ```
/// use rotor::config::ApplicationConfig;
///
/// let config = ApplicationConfig::from_pairs([("rotor.deployment.port", "8081"), ("app.greeting", "Hi")]);
/// assert_eq!(config.get::<u16>("rotor.deployment.port").unwrap(), Some(8081));
/// assert_eq!(config.string("app.greeting"), Some("Hi"));
/// let error = config.require::<u16>("app.greeting").unwrap_err();
/// assert!(error.is_config());
/// assert!(error.to_string().contains("`app.greeting`"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApplicationConfig {
    values: BTreeMap<String, ConfigValue>,
}

/// One configuration value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigValue {
    /// A single value (numbers and booleans are kept as written).
    String(String),
    /// A list of values.
    List(Vec<String>),
}

impl ApplicationConfig {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configuration of `(key, value)` pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut config = Self::new();
        for (key, value) in pairs {
            config.set(key, value);
        }
        config
    }

    /// Sets `key` to a single value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), ConfigValue::String(value.into()));
    }

    /// Sets `key` to a list of values.
    pub fn set_list<V: Into<String>>(&mut self, key: impl Into<String>, values: impl IntoIterator<Item = V>) {
        self.values.insert(key.into(), ConfigValue::List(values.into_iter().map(Into::into).collect()));
    }

    /// Adds every value of `other`, replacing values under the same keys (later wins).
    pub fn merge(&mut self, other: &ApplicationConfig) {
        for (key, value) in &other.values {
            self.values.insert(key.clone(), value.clone());
        }
    }

    /// The value under `key`.
    pub fn value(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    /// True if `key` has a value.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The single value under `key`.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.values.get(key)? {
            ConfigValue::String(value) => Some(value),
            ConfigValue::List(_) => None,
        }
    }

    /// The list under `key`.
    pub fn list(&self, key: &str) -> Option<&[String]> {
        match self.values.get(key)? {
            ConfigValue::List(values) => Some(values),
            ConfigValue::String(_) => None,
        }
    }

    /// The value under `key` parsed as `T`; `None` when absent.
    ///
    /// # Errors
    /// A configuration error naming the key, the value and the expected type when it does not parse, or when
    /// the key holds a list.
    pub fn get<T>(&self, key: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let expected = std::any::type_name::<T>();
        match self.values.get(key) {
            None => Ok(None),
            Some(ConfigValue::List(_)) => {
                Err(Error::config(format!("config key `{key}` holds a list, but a single {expected} was expected")))
            }
            Some(ConfigValue::String(value)) => value.parse::<T>().map(Some).map_err(|error| {
                Error::config(format!(
                    "config key `{key}` has value {value:?}, which is not a valid {expected}: {error}"
                ))
            }),
        }
    }

    /// The value under `key` parsed as `T`.
    ///
    /// # Errors
    /// As [`get`](Self::get), and a configuration error naming the key when it is missing.
    pub fn require<T>(&self, key: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(key)?.ok_or_else(|| {
            Error::config(format!("config key `{key}` is missing: set it in application.conf or pass -P:{key}=<value>"))
        })
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.values.keys().map(String::as_str)
    }
}

impl fmt::Debug for ApplicationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(&self.values).finish()
    }
}
