//! `ApplicationConfig`: the application's configuration, read by dotted key; HOCON files (`application.conf`),
//! the command line ([`CommandLine`]) and the typed deployment settings ([`DeploymentConfig`]).
//!
//! # Where values come from
//!
//! [`CommandLine::load`] builds the effective configuration, later sources winning over earlier ones:
//!
//! 1. the HOCON files named by `-config=FILE` (in order, a later file wins), or `application.conf` in the
//!    working directory when no `-config=` is given and the file exists;
//! 2. `-P:key=value` properties;
//! 3. the flags `-host=`, `-port=` and `-sslPort=` (`rotor.deployment.host`, `.port`, `.sslPort`).
//!
//! HOCON substitutions `${VAR}` (required) and `${?VAR}` (optional: the assignment is skipped when unset) read
//! environment variables, so `port = ${?PORT}` after `port = 8080` honours `PORT` when it is set.
//!
//! # Ktor keys
//!
//! Every getter that is asked for a key under `rotor.` and finds nothing there reads the same key under
//! `ktor.`: `rotor.deployment.port` falls back to `ktor.deployment.port`, so an existing Ktor
//! `application.conf` works unchanged. A `rotor.` key always wins over its `ktor.` twin, whichever source set
//! it; error messages name the key that was actually read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, Result};

mod command_line;
mod deployment;
mod load;

pub use command_line::{CommandLine, DEFAULT_CONFIG_FILE};
pub use deployment::{DeploymentConfig, PORT_ENV};

/// The prefix of Rotor's own keys; a missing `rotor.X` is looked up as [`KTOR_PREFIX`]`X`.
pub const ROTOR_PREFIX: &str = "rotor.";

/// The prefix of Ktor's keys, read when the `rotor.` key is absent.
pub const KTOR_PREFIX: &str = "ktor.";

/// The configuration of an application: values under dotted keys (`rotor.deployment.port`), each a string or
/// a list of strings, read raw or typed.
///
/// Tests build one from pairs (as Ktor's `MapApplicationConfig`); applications read HOCON with
/// [`from_hocon_file`](Self::from_hocon_file) or, with the command line, [`CommandLine::load`]. Typed reads
/// name the key and the expected type when a value does not parse. A lookup of `rotor.X` falls back to
/// `ktor.X` (see the [module documentation](self)).
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
///
/// let config = ApplicationConfig::from_hocon_str(
///     "ktor { deployment { port = 8082, shutdownTimeout = 5s } }\nrotor.application.modules = [app.main]",
///     "application.conf",
/// )
/// .unwrap();
/// assert_eq!(config.get::<u16>("rotor.deployment.port").unwrap(), Some(8082)); // read from `ktor.`
/// assert_eq!(config.duration("rotor.deployment.shutdownTimeout").unwrap(), Some(std::time::Duration::from_secs(5)));
/// assert_eq!(config.list("rotor.application.modules"), Some(&["app.main".to_owned()][..]));
///
/// let error = ApplicationConfig::from_hocon_str("rotor {\n  port = [1, 2\n}", "application.conf").unwrap_err();
/// assert!(error.to_string().starts_with("application.conf:3:1: "), "{error}");
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

    /// Reads a HOCON document; `origin` names it in error messages (`application.conf`).
    ///
    /// Objects become dotted keys (`rotor { deployment { port = 8080 } }` is `rotor.deployment.port`), a list
    /// of scalars a [`ConfigValue::List`], a list holding objects or lists one key per element
    /// (`servers.0.host`), and `null` no key at all. Numbers and booleans are kept as written. Substitutions
    /// read the process environment; includes are resolved against the working directory.
    ///
    /// # Errors
    /// A configuration error `origin:line:column: what` for malformed HOCON (including a stray `}` or `]`,
    /// which `hocon-parser` alone would take as the end of the document) or a required substitution (`${VAR}`)
    /// that nothing defines.
    pub fn from_hocon_str(text: &str, origin: &str) -> Result<Self> {
        load::parse(text, origin, None, load::Env::Process)
    }

    /// As [`from_hocon_str`](Self::from_hocon_str), with the environment variables that `${VAR}` reads given
    /// by `env` instead of the process environment (for tests and embedding).
    ///
    /// `env` is asked for every name written in a substitution of `text`; an included file sees only those
    /// names (use [`from_hocon_str`](Self::from_hocon_str) for the whole process environment).
    ///
    /// # Errors
    /// As [`from_hocon_str`](Self::from_hocon_str).
    ///
    /// ```
    /// use rotor::config::ApplicationConfig;
    ///
    /// let text = "rotor.deployment { port = 8080, port = ${?PORT} }";
    /// let env = |name: &str| (name == "PORT").then(|| "9090".to_owned());
    /// let config = ApplicationConfig::from_hocon_str_with_env(text, "application.conf", &env).unwrap();
    /// assert_eq!(config.string("rotor.deployment.port"), Some("9090"));
    /// let config = ApplicationConfig::from_hocon_str_with_env(text, "application.conf", &|_| None).unwrap();
    /// assert_eq!(config.string("rotor.deployment.port"), Some("8080"));
    /// ```
    pub fn from_hocon_str_with_env(text: &str, origin: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        load::parse(text, origin, None, load::Env::Lookup(env))
    }

    /// Reads a HOCON file, named in error messages as `path` is written; includes are resolved relative to
    /// the file's directory and substitutions read the process environment.
    ///
    /// # Errors
    /// A configuration error naming the file when it cannot be read, and `file:line:column: what` when it is
    /// malformed (see [`from_hocon_str`](Self::from_hocon_str)).
    pub fn from_hocon_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        load_file(path, &path.display().to_string(), load::Env::Process)
    }

    /// As [`from_hocon_file`](Self::from_hocon_file), with the environment variables given by `env` (see
    /// [`from_hocon_str_with_env`](Self::from_hocon_str_with_env)).
    ///
    /// # Errors
    /// As [`from_hocon_file`](Self::from_hocon_file).
    pub fn from_hocon_file_with_env(path: impl AsRef<Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let path = path.as_ref();
        load_file(path, &path.display().to_string(), load::Env::Lookup(env))
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

    /// The value under `key` (or, for `rotor.X`, under `ktor.X` when `rotor.X` is absent).
    pub fn value(&self, key: &str) -> Option<&ConfigValue> {
        self.lookup(key).map(|(_, value)| value)
    }

    /// True if `key` has a value (or, for `rotor.X`, `ktor.X` has one).
    pub fn contains(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// The single value under `key` (with the `ktor.` fallback).
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.lookup(key)?.1 {
            ConfigValue::String(value) => Some(value),
            ConfigValue::List(_) => None,
        }
    }

    /// The list under `key` (with the `ktor.` fallback).
    pub fn list(&self, key: &str) -> Option<&[String]> {
        match self.lookup(key)?.1 {
            ConfigValue::List(values) => Some(values),
            ConfigValue::String(_) => None,
        }
    }

    /// The key that holds the value for `key` and the value: `key` itself, or for an absent `rotor.X` the
    /// `ktor.X` key when that one is set.
    pub fn lookup(&self, key: &str) -> Option<(&str, &ConfigValue)> {
        if let Some((found, value)) = self.values.get_key_value(key) {
            return Some((found, value));
        }
        let rest = key.strip_prefix(ROTOR_PREFIX)?;
        let ktor_key = format!("{KTOR_PREFIX}{rest}");
        self.values.get_key_value(ktor_key.as_str()).map(|(found, value)| (found.as_str(), value))
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
        match self.lookup(key) {
            None => Ok(None),
            Some((key, ConfigValue::List(_))) => {
                Err(Error::config(format!("config key `{key}` holds a list, but a single {expected} was expected")))
            }
            Some((key, ConfigValue::String(value))) => value.parse::<T>().map(Some).map_err(|error| {
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

    /// The value under `key` read as a HOCON duration; `None` when absent.
    ///
    /// Accepts a number with a unit, with or without a space: `ns`, `us`, `ms`, `s`, `m`, `h`, `d` and their
    /// long forms (`nanoseconds` … `days`, singular or plural; lower case as in HOCON). A bare number is
    /// milliseconds, as in HOCON: `500` is half a second.
    ///
    /// # Errors
    /// A configuration error naming the key, the value and the accepted forms when it is not a duration (a
    /// negative duration, an unknown unit, a list).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotor::config::ApplicationConfig;
    ///
    /// let config = ApplicationConfig::from_pairs([("a", "10s"), ("b", "500"), ("c", "2 minutes"), ("d", "soon")]);
    /// assert_eq!(config.duration("a").unwrap(), Some(Duration::from_secs(10)));
    /// assert_eq!(config.duration("b").unwrap(), Some(Duration::from_millis(500)));
    /// assert_eq!(config.duration("c").unwrap(), Some(Duration::from_secs(120)));
    /// assert_eq!(config.duration("missing").unwrap(), None);
    /// assert!(config.duration("d").unwrap_err().to_string().contains("`d`"));
    /// ```
    pub fn duration(&self, key: &str) -> Result<Option<Duration>> {
        self.typed(
            key,
            "a duration (such as `500ms`, `10s`, `2 minutes`; a bare number is milliseconds)",
            load::duration,
        )
    }

    /// The value under `key` read as a HOCON byte size in bytes; `None` when absent.
    ///
    /// Accepts a number with a unit, with or without a space: `B`; powers of ten `kB`, `MB`, `GB`, `TB` …;
    /// powers of two `K`/`k`, `M`/`m`, `G`/`g` … (as Java's `-Xmx`), `KiB`, `MiB`, `GiB` … and the long forms
    /// (`megabytes`, `mebibytes`). A bare number is bytes. Unit names are case-sensitive as in HOCON (`KB` is
    /// an error: write `kB` for 1000 or `KiB`/`K` for 1024).
    ///
    /// # Errors
    /// A configuration error naming the key, the value and the accepted forms when it is not a size.
    ///
    /// ```
    /// use rotor::config::ApplicationConfig;
    ///
    /// let config = ApplicationConfig::from_pairs([("a", "512k"), ("b", "10MB"), ("c", "1MiB"), ("d", "42"), ("e", "lots")]);
    /// assert_eq!(config.size("a").unwrap(), Some(512 * 1024));
    /// assert_eq!(config.size("b").unwrap(), Some(10_000_000));
    /// assert_eq!(config.size("c").unwrap(), Some(1024 * 1024));
    /// assert_eq!(config.size("d").unwrap(), Some(42));
    /// assert!(config.size("e").unwrap_err().to_string().contains("`e`"));
    /// ```
    pub fn size(&self, key: &str) -> Result<Option<u64>> {
        self.typed(key, "a size in bytes (such as `512k`, `10MB`, `1MiB`; a bare number is bytes)", load::size)
    }

    /// The value under `key` read as a HOCON boolean (`true`/`yes`/`on`, `false`/`no`/`off`, any case);
    /// `None` when absent.
    ///
    /// # Errors
    /// A configuration error naming the key and the value when it is not a boolean.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "a boolean (`true` or `false`)", load::boolean)
    }

    fn typed<T>(&self, key: &str, expected: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>> {
        match self.lookup(key) {
            None => Ok(None),
            Some((key, ConfigValue::List(_))) => {
                Err(Error::config(format!("config key `{key}` holds a list, but {expected} was expected")))
            }
            Some((key, ConfigValue::String(value))) => match parse(value) {
                Some(parsed) => Ok(Some(parsed)),
                None => Err(Error::config(format!("config key `{key}` has value {value:?}, which is not {expected}"))),
            },
        }
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

/// Reads the HOCON file at `path`, naming it `origin` in messages.
fn load_file(path: &Path, origin: &str, env: load::Env<'_>) -> Result<ApplicationConfig> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::config(format!("cannot read the config file `{origin}`: {error}; check the path and its permissions"))
    })?;
    load::parse(&text, origin, path.parent(), env)
}
