//! HOCON loading, typed getters, the `ktor.` fallback and the command line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rotor::config::{ApplicationConfig, CommandLine, ConfigValue};

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rotor-config-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| (*arg).to_owned()).collect()
}

#[test]
fn objects_flatten_to_dotted_keys_and_lists_of_scalars_to_lists() {
    let text = r#"
        rotor {
          deployment { port = 8080, host = "127.0.0.1" }
          application.modules = [ app.main, "app.admin", 3 ]
          development = true
        }
        servers = [ { name = a }, { name = b } ]
        nothing = null
        empty = []
        "quoted.key" = 1
    "#;
    let config = ApplicationConfig::from_hocon_str(text, "application.conf").unwrap();
    assert_eq!(config.string("rotor.deployment.port"), Some("8080"));
    assert_eq!(config.string("rotor.deployment.host"), Some("127.0.0.1"));
    assert_eq!(
        config.value("rotor.application.modules"),
        Some(&ConfigValue::List(vec!["app.main".into(), "app.admin".into(), "3".into()]))
    );
    assert_eq!(config.boolean("rotor.development").unwrap(), Some(true));
    assert_eq!(config.string("servers.0.name"), Some("a"));
    assert_eq!(config.string("servers.1.name"), Some("b"));
    assert!(!config.contains("nothing"));
    assert_eq!(config.list("empty"), Some(&[][..]));
    assert_eq!(config.string("quoted.key"), Some("1"));
}

#[test]
fn malformed_file_names_file_line_and_column() {
    let dir = temp_dir("malformed");
    let path = dir.join("application.conf");
    std::fs::write(&path, "rotor {\n  deployment {\n    port = 8080\n    host = [\n  }\n}\n").unwrap();
    let error = ApplicationConfig::from_hocon_file(&path).unwrap_err();
    assert!(error.is_config());
    let message = error.to_string();
    let expected = format!("{}:5:3: ", path.display());
    assert!(message.starts_with(&expected), "{message}");

    // Through the command line the file is named as written.
    let error = CommandLine::parse(args(&["-config=application.conf"])).unwrap().load_with(&dir, &no_env).unwrap_err();
    assert!(error.to_string().starts_with("application.conf:5:3: "), "{error}");
    let error = CommandLine::parse(args(&[])).unwrap().load_with(&dir, &no_env).unwrap_err();
    assert!(error.to_string().starts_with("application.conf:5:3: "), "{error}");
}

#[test]
fn malformed_string_names_origin() {
    let error = ApplicationConfig::from_hocon_str("a = {", "inline.conf").unwrap_err();
    assert!(error.to_string().starts_with("inline.conf:1:6: "), "{error}");
    let error = ApplicationConfig::from_hocon_str("[1, 2]", "list.conf").unwrap_err();
    assert!(error.to_string().starts_with("list.conf:1:1: "), "{error}");
}

#[test]
fn required_substitution_without_value_is_an_error_with_position() {
    let error = ApplicationConfig::from_hocon_str_with_env("a = 1\nport = ${PORT}", "app.conf", &no_env).unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("app.conf:2:8: "), "{message}");
    assert!(message.contains("PORT"), "{message}");
    assert!(message.contains("${?PORT}"), "{message}");
}

#[test]
fn optional_substitution_honours_the_environment() {
    let text = "rotor.deployment {\n  port = 8080\n  port = ${?PORT}\n  host = ${HOST}\n}";
    let env = |name: &str| match name {
        "PORT" => Some("9191".to_owned()),
        "HOST" => Some("example.test".to_owned()),
        _ => None,
    };
    let config = ApplicationConfig::from_hocon_str_with_env(text, "application.conf", &env).unwrap();
    assert_eq!(config.string("rotor.deployment.port"), Some("9191"));
    assert_eq!(config.string("rotor.deployment.host"), Some("example.test"));

    let env = |name: &str| (name == "HOST").then(|| "h".to_owned());
    let config = ApplicationConfig::from_hocon_str_with_env(text, "application.conf", &env).unwrap();
    assert_eq!(config.string("rotor.deployment.port"), Some("8080"));
}

#[test]
fn process_environment_is_read_by_default() {
    // PATH is set in every environment the tests run in; no test changes the process environment.
    let path = std::env::var("PATH").unwrap();
    let config = ApplicationConfig::from_hocon_str("p = ${?PATH}\nq = ${?ROTOR_SURELY_UNSET_VARIABLE}", "t").unwrap();
    assert_eq!(config.string("p"), Some(path.as_str()));
    assert!(!config.contains("q"));
}

#[test]
fn substitutions_refer_to_other_keys() {
    let config =
        ApplicationConfig::from_hocon_str("base = 8000\nrotor.deployment.port = ${base}", "application.conf").unwrap();
    assert_eq!(config.get::<u16>("rotor.deployment.port").unwrap(), Some(8000));
}

#[test]
fn includes_resolve_relative_to_the_file() {
    let dir = temp_dir("include");
    std::fs::write(dir.join("common.conf"), "rotor.deployment.host = \"10.0.0.1\"\n").unwrap();
    std::fs::write(dir.join("application.conf"), "include \"common.conf\"\nrotor.deployment.port = 1234\n").unwrap();
    let config = ApplicationConfig::from_hocon_file(dir.join("application.conf")).unwrap();
    assert_eq!(config.string("rotor.deployment.host"), Some("10.0.0.1"));
    assert_eq!(config.string("rotor.deployment.port"), Some("1234"));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = temp_dir("missing");
    let error = ApplicationConfig::from_hocon_file(dir.join("nope.conf")).unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("nope.conf"), "{error}");
}

#[test]
fn ktor_keys_are_read_when_rotor_keys_are_absent() {
    let text = "ktor {\n deployment { port = 8081, shutdownTimeout = 3s }\n application.modules = [a.b]\n}\n\
                rotor.deployment.host = localhost\nktor.deployment.host = ignored\n";
    let config = ApplicationConfig::from_hocon_str(text, "application.conf").unwrap();
    assert_eq!(config.get::<u16>("rotor.deployment.port").unwrap(), Some(8081));
    assert_eq!(config.require::<u16>("rotor.deployment.port").unwrap(), 8081);
    assert!(config.contains("rotor.deployment.port"));
    assert_eq!(config.string("rotor.deployment.host"), Some("localhost"));
    assert_eq!(config.list("rotor.application.modules"), Some(&["a.b".to_owned()][..]));
    assert_eq!(config.duration("rotor.deployment.shutdownTimeout").unwrap(), Some(Duration::from_secs(3)));
    assert_eq!(config.lookup("rotor.deployment.port").map(|(key, _)| key), Some("ktor.deployment.port"));
    // Only `rotor.` falls back; other keys are read as they are.
    assert!(!config.contains("deployment.port"));
    assert!(!config.contains("app.rotor.deployment.port"));

    // Errors name the key that was read.
    let config = ApplicationConfig::from_pairs([("ktor.deployment.port", "eighty")]);
    let error = config.get::<u16>("rotor.deployment.port").unwrap_err();
    assert!(error.to_string().contains("`ktor.deployment.port`"), "{error}");
}

#[test]
fn durations() {
    let config = ApplicationConfig::from_hocon_str(
        "a = 10s\nb = 500ms\nc = 2 minutes\nd = 1500\ne = \"1 h\"\nf = soon\ng = -1s\nh = [1s]\ni = 10 KB",
        "t",
    )
    .unwrap();
    assert_eq!(config.duration("a").unwrap(), Some(Duration::from_secs(10)));
    assert_eq!(config.duration("b").unwrap(), Some(Duration::from_millis(500)));
    assert_eq!(config.duration("c").unwrap(), Some(Duration::from_secs(120)));
    assert_eq!(config.duration("d").unwrap(), Some(Duration::from_millis(1500)));
    assert_eq!(config.duration("e").unwrap(), Some(Duration::from_secs(3600)));
    assert_eq!(config.duration("absent").unwrap(), None);
    for key in ["f", "g", "h", "i"] {
        let message = config.duration(key).unwrap_err().to_string();
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains("duration"), "{message}");
    }
    let message = config.duration("f").unwrap_err().to_string();
    assert!(message.contains("\"soon\""), "{message}");
}

#[test]
fn sizes() {
    let config =
        ApplicationConfig::from_pairs([("a", "512k"), ("b", "10MB"), ("c", "1MiB"), ("d", "2048"), ("e", "1.5 KiB")]);
    assert_eq!(config.size("a").unwrap(), Some(512 * 1024));
    assert_eq!(config.size("b").unwrap(), Some(10_000_000));
    assert_eq!(config.size("c").unwrap(), Some(1024 * 1024));
    assert_eq!(config.size("d").unwrap(), Some(2048));
    assert_eq!(config.size("e").unwrap(), Some(1536));
    let config = ApplicationConfig::from_pairs([("x", "10 KB"), ("y", "-5"), ("z", "big")]);
    for key in ["x", "y", "z"] {
        let message = config.size(key).unwrap_err().to_string();
        assert!(message.contains(&format!("`{key}`")) && message.contains("size"), "{message}");
    }
}

#[test]
fn wrong_types_name_key_value_and_expectation() {
    let config = ApplicationConfig::from_hocon_str("port = eighty\nlist = [1, 2]\nflag = maybe", "t").unwrap();
    let message = config.get::<u16>("port").unwrap_err().to_string();
    assert!(message.contains("`port`") && message.contains("\"eighty\"") && message.contains("u16"), "{message}");
    let message = config.get::<u16>("list").unwrap_err().to_string();
    assert!(message.contains("`list`") && message.contains("list"), "{message}");
    let message = config.boolean("flag").unwrap_err().to_string();
    assert!(message.contains("`flag`") && message.contains("boolean"), "{message}");
    let message = config.require::<u16>("absent").unwrap_err().to_string();
    assert!(message.contains("`absent`") && message.contains("-P:absent="), "{message}");
}

#[test]
fn command_line_parses_known_flags() {
    let command_line = CommandLine::parse(args(&[
        "-config=a.conf",
        "-config=b.conf",
        "-P:x.y=1",
        "-P:empty=",
        "-host=127.0.0.1",
        "-port=9000",
        "-sslPort=9443",
        "--",
        "-not-a-flag",
        "positional",
    ]))
    .unwrap();
    assert_eq!(command_line.config_files(), ["a.conf", "b.conf"]);
    assert_eq!(command_line.properties(), [("x.y".to_owned(), "1".to_owned()), ("empty".to_owned(), String::new())]);
    assert_eq!(command_line.host(), Some("127.0.0.1"));
    assert_eq!(command_line.port(), Some(9000));
    assert_eq!(command_line.ssl_port(), Some(9443));
    assert_eq!(command_line.arguments(), ["-not-a-flag", "positional"]);
}

#[test]
fn command_line_rejects_unknown_and_malformed_arguments() {
    for (arg, needle) in [
        ("-watch=x", "unknown command-line flag `-watch=x`"),
        ("--port=1", "unknown command-line flag"),
        ("port=1", "unexpected command-line argument `port=1`"),
        ("-port", "`-port` needs a value"),
        ("-config=", "`-config` needs a value"),
        ("-port=http", "-port=http"),
        ("-sslPort=70000", "0 to 65535"),
        ("-P:novalue", "-P:key=value"),
        ("-P:=1", "-P:key=value"),
    ] {
        let error = CommandLine::parse(args(&[arg])).unwrap_err();
        assert!(error.is_config());
        assert!(error.to_string().contains(needle), "{arg}: {error}");
    }
    let message = CommandLine::parse(args(&["-verbose"])).unwrap_err().to_string();
    for known in ["-config=FILE", "-P:key=value", "-host=HOST", "-port=PORT", "-sslPort=PORT"] {
        assert!(message.contains(known), "{message}");
    }
}

#[test]
fn precedence_flags_over_properties_over_files_later_file_wins() {
    let dir = temp_dir("precedence");
    std::fs::write(
        dir.join("a.conf"),
        "rotor.deployment { port = 1, host = a, sslPort = 11 }\napp { from = a, only.a = yes, both = a }",
    )
    .unwrap();
    std::fs::write(dir.join("b.conf"), "app { from = b, both = b }\nrotor.deployment.port = 2").unwrap();
    let load = |list: &[&str]| CommandLine::parse(args(list)).unwrap().load_with(&dir, &no_env).unwrap();

    let config = load(&["-config=a.conf", "-config=b.conf"]);
    assert_eq!(config.string("app.from"), Some("b"));
    assert_eq!(config.string("app.only.a"), Some("yes"));
    assert_eq!(config.string("rotor.deployment.port"), Some("2"));

    let config = load(&["-config=b.conf", "-config=a.conf"]);
    assert_eq!(config.string("app.from"), Some("a"));

    let config = load(&["-config=a.conf", "-config=b.conf", "-P:app.both=p", "-P:rotor.deployment.port=3"]);
    assert_eq!(config.string("app.both"), Some("p"));
    assert_eq!(config.string("rotor.deployment.port"), Some("3"));

    let config = load(&[
        "-port=4",
        "-config=a.conf",
        "-P:rotor.deployment.port=3",
        "-P:rotor.deployment.host=p",
        "-host=flag",
        "-sslPort=44",
        "-P:rotor.deployment.sslPort=33",
    ]);
    assert_eq!(config.string("rotor.deployment.port"), Some("4"));
    assert_eq!(config.string("rotor.deployment.host"), Some("flag"));
    assert_eq!(config.string("rotor.deployment.sslPort"), Some("44"));
}

#[test]
fn default_application_conf_is_read_when_present_and_optional() {
    let dir = temp_dir("default");
    let config = CommandLine::parse(args(&["-port=5"])).unwrap().load_with(&dir, &no_env).unwrap();
    assert_eq!(config.keys().collect::<Vec<_>>(), ["rotor.deployment.port"]);

    std::fs::write(dir.join("application.conf"), "rotor.deployment { port = 8080, port = ${?PORT} }").unwrap();
    let env = |name: &str| (name == "PORT").then(|| "7777".to_owned());
    let config = CommandLine::parse(args(&[])).unwrap().load_with(&dir, &env).unwrap();
    assert_eq!(config.string("rotor.deployment.port"), Some("7777"));

    // An explicit -config= replaces the default file.
    std::fs::write(dir.join("other.conf"), "other = 1").unwrap();
    let config = CommandLine::parse(args(&["-config=other.conf"])).unwrap().load_with(&dir, &env).unwrap();
    assert!(!config.contains("rotor.deployment.port"));
    assert_eq!(config.string("other"), Some("1"));
}

#[test]
fn missing_explicit_config_file_is_an_error_naming_it() {
    let dir = temp_dir("explicit-missing");
    let error = CommandLine::parse(args(&["-config=prod.conf"])).unwrap().load_with(&dir, &no_env).unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("`prod.conf`"), "{error}");
}

#[test]
fn stray_closing_brace_is_an_error_not_a_silent_truncation() {
    // hocon-parser 1.14 on its own stops at the stray `}` and drops `port`; Rotor reports it.
    let error = ApplicationConfig::from_hocon_str("host = a\n}\nport = 1\n", "application.conf").unwrap_err();
    assert!(error.to_string().starts_with("application.conf:2:1: unexpected `}`"), "{error}");
}

#[test]
fn environment_lists_through_an_injected_lookup() {
    let env = |name: &str| match name {
        "HOSTS_0" => Some("a".to_owned()),
        "HOSTS_1" => Some("b".to_owned()),
        _ => None,
    };
    let config = ApplicationConfig::from_hocon_str_with_env("hosts = ${?HOSTS[]}", "t", &env).unwrap();
    assert_eq!(config.list("hosts"), Some(&["a".to_owned(), "b".to_owned()][..]));
    let config = ApplicationConfig::from_hocon_str_with_env("hosts = [x]\nhosts = ${?HOSTS[]}", "t", &no_env).unwrap();
    assert_eq!(config.list("hosts"), Some(&["x".to_owned()][..]));
}
