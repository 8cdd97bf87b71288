//! `CommandLine`: Ktor's command-line arguments (`-config=`, `-P:`, `-host=`, `-port=`, `-sslPort=`).

use std::path::Path;

use super::{ApplicationConfig, load};
use crate::{Error, Result};

/// The flags [`CommandLine::parse`] understands, listed in its error messages.
const KNOWN_FLAGS: &str = "-config=FILE, -P:key=value, -host=HOST, -port=PORT, -sslPort=PORT (and `--` before \
                           the program's own arguments)";

/// The configuration file read from the working directory when no `-config=` is given.
pub const DEFAULT_CONFIG_FILE: &str = "application.conf";

/// The command line of an application, as Ktor's `EngineMain` reads it.
///
/// | argument | meaning |
/// | --- | --- |
/// | `-config=FILE` | a HOCON file to read; repeatable, a later file wins; relative to the working directory |
/// | `-P:key=value` | sets `key` (`-P:rotor.deployment.port=8081`); repeatable, a later one wins |
/// | `-host=HOST` | sets `rotor.deployment.host` |
/// | `-port=PORT` | sets `rotor.deployment.port` |
/// | `-sslPort=PORT` | sets `rotor.deployment.sslPort` |
/// | `--` | ends the flags: what follows is kept in [`arguments`](Self::arguments) for the program |
///
/// Any other argument is an error that lists these, so a typo does not go unnoticed.
/// [`load`](Self::load) builds the effective configuration: the flags win over `-P:` properties, which win
/// over the files; without `-config=`, `application.conf` in the working directory is read when it exists.
///
/// ```
/// use rotor::config::CommandLine;
///
/// let args = ["-port=9000", "-P:app.greeting=Hi", "-P:rotor.deployment.port=1"].map(String::from);
/// let command_line = CommandLine::parse(args).unwrap();
/// let dir = std::env::temp_dir().join("rotor-doc-command-line-has-no-application-conf");
/// let config = command_line.load_with(&dir, &|_| None).unwrap();
/// assert_eq!(config.string("rotor.deployment.port"), Some("9000")); // the flag beats -P:
/// assert_eq!(config.string("app.greeting"), Some("Hi"));
///
/// let error = CommandLine::parse(["-prot=9000".to_owned()]).unwrap_err();
/// assert!(error.to_string().contains("-port=PORT"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    config_files: Vec<String>,
    properties: Vec<(String, String)>,
    host: Option<String>,
    port: Option<u16>,
    ssl_port: Option<u16>,
    arguments: Vec<String>,
}

impl CommandLine {
    /// Parses `args`, without the program name (`std::env::args().skip(1)`; or use
    /// [`from_env`](Self::from_env)).
    ///
    /// # Errors
    /// A configuration error for an unknown flag or a stray argument (listing the known flags), a flag without
    /// its value, an empty `-config=` or `-P:` key, and a port that is not a number from 0 to 65535.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut command_line = CommandLine::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--" {
                command_line.arguments.extend(args.by_ref());
                break;
            }
            if let Some(property) = arg.strip_prefix("-P:") {
                match property.split_once('=') {
                    Some((key, value)) if !key.is_empty() => {
                        command_line.properties.push((key.to_owned(), value.to_owned()));
                    }
                    _ => {
                        return Err(Error::config(format!(
                            "command-line argument `{arg}` must have the form -P:key=value (for example \
                             -P:rotor.deployment.port=8080)"
                        )));
                    }
                }
                continue;
            }
            let Some(flag) = arg.strip_prefix('-') else {
                return Err(Error::config(format!(
                    "unexpected command-line argument `{arg}`: the known flags are {KNOWN_FLAGS}"
                )));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            };
            if !matches!(name, "config" | "host" | "port" | "sslPort") {
                return Err(Error::config(format!(
                    "unknown command-line flag `{arg}`: the known flags are {KNOWN_FLAGS}"
                )));
            }
            let value = match value {
                Some(value) if !value.is_empty() => value,
                _ => {
                    return Err(Error::config(format!(
                        "command-line flag `-{name}` needs a value: write -{name}=VALUE (for example {})",
                        example(name)
                    )));
                }
            };
            match name {
                "config" => command_line.config_files.push(value.to_owned()),
                "host" => command_line.host = Some(value.to_owned()),
                "port" => command_line.port = Some(parse_port(name, value)?),
                _ => command_line.ssl_port = Some(parse_port(name, value)?),
            }
        }
        Ok(command_line)
    }

    /// Parses the arguments of this process (without the program name).
    ///
    /// # Errors
    /// As [`parse`](Self::parse), and a configuration error for an argument that is not valid UTF-8.
    pub fn from_env() -> Result<Self> {
        let mut args = Vec::new();
        for arg in std::env::args_os().skip(1) {
            match arg.into_string() {
                Ok(arg) => args.push(arg),
                Err(arg) => {
                    return Err(Error::config(format!(
                        "command-line argument {arg:?} is not valid UTF-8; pass paths and values as UTF-8 text"
                    )));
                }
            }
        }
        Self::parse(args)
    }

    /// The files named by `-config=`, in order, as written.
    pub fn config_files(&self) -> &[String] {
        &self.config_files
    }

    /// The `-P:key=value` properties, in order.
    pub fn properties(&self) -> &[(String, String)] {
        &self.properties
    }

    /// The `-host=` flag.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The `-port=` flag.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The `-sslPort=` flag.
    pub fn ssl_port(&self) -> Option<u16> {
        self.ssl_port
    }

    /// The arguments after `--`, for the program itself.
    pub fn arguments(&self) -> &[String] {
        &self.arguments
    }

    /// The effective configuration, read from the process's working directory with the process environment
    /// (see [`load_with`](Self::load_with)).
    ///
    /// # Errors
    /// As [`load_with`](Self::load_with), and a configuration error when the working directory is unknown.
    pub fn load(&self) -> Result<ApplicationConfig> {
        let cwd = std::env::current_dir().map_err(|error| {
            Error::config(format!("cannot determine the working directory to read configuration files from: {error}"))
        })?;
        self.load_from(&cwd, load::Env::Process)
    }

    /// The effective configuration: the HOCON files (each `-config=FILE` in order, a later file winning, or
    /// `application.conf` in `cwd` when no `-config=` is given and it exists), then the `-P:` properties, then
    /// `-host=`, `-port=` and `-sslPort=`, each winning over what came before. Relative paths are taken from
    /// `cwd`; `${VAR}` substitutions in the files read `env`.
    ///
    /// # Errors
    /// A configuration error naming a `-config=` file that cannot be read, and `file:line:column: what` for a
    /// malformed file or a required substitution that nothing defines.
    pub fn load_with(&self, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<ApplicationConfig> {
        self.load_from(cwd, load::Env::Lookup(env))
    }

    fn load_from(&self, cwd: &Path, env: load::Env<'_>) -> Result<ApplicationConfig> {
        let mut config = ApplicationConfig::new();
        if self.config_files.is_empty() {
            let default = cwd.join(DEFAULT_CONFIG_FILE);
            if default.exists() {
                config.merge(&super::load_file(&default, DEFAULT_CONFIG_FILE, env)?);
            }
        }
        for file in &self.config_files {
            let path = cwd.join(file);
            if !path.exists() {
                return Err(Error::config(format!(
                    "the config file `{file}` given with -config= does not exist (looked in {}); check the path",
                    cwd.display()
                )));
            }
            config.merge(&super::load_file(&path, file, env)?);
        }
        for (key, value) in &self.properties {
            config.set(key.clone(), value.clone());
        }
        if let Some(host) = &self.host {
            config.set("rotor.deployment.host", host.clone());
        }
        if let Some(port) = self.port {
            config.set("rotor.deployment.port", port.to_string());
        }
        if let Some(port) = self.ssl_port {
            config.set("rotor.deployment.sslPort", port.to_string());
        }
        Ok(config)
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "config" => "-config=application.conf",
        "host" => "-host=0.0.0.0",
        "port" => "-port=8080",
        _ => "-sslPort=8443",
    }
}

fn parse_port(name: &str, value: &str) -> Result<u16> {
    value.parse::<u16>().map_err(|_| {
        Error::config(format!("command-line flag `-{name}={value}`: the port must be a number from 0 to 65535"))
    })
}
