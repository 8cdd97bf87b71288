//! `DeploymentConfig`: defaults, the `PORT` fallback, the `ktor.` keys, and errors that name the key.

use std::path::PathBuf;
use std::time::Duration;

use rotor::config::{ApplicationConfig, CommandLine, DeploymentConfig};
use rotor::environment::{ConnectorKind, EngineConnector};

fn no_env(_: &str) -> Option<String> {
    None
}

fn deployment(pairs: &[(&str, &str)]) -> rotor::Result<DeploymentConfig> {
    DeploymentConfig::from_config(&ApplicationConfig::from_pairs(pairs.iter().copied()), &no_env)
}

fn error(pairs: &[(&str, &str)]) -> String {
    deployment(pairs).unwrap_err().to_string()
}

#[test]
fn defaults() {
    let config = deployment(&[]).unwrap();
    assert_eq!(config, DeploymentConfig::default());
    assert_eq!(config.host, "0.0.0.0");
    assert_eq!(config.port, 8080);
    assert_eq!(config.ssl_port, None);
    assert_eq!(config.root_path, "");
    assert_eq!(config.shutdown_grace_period, Duration::from_millis(1000));
    assert_eq!(config.shutdown_timeout, Duration::from_millis(5000));
    assert!(config.modules.is_empty());
    assert!(!config.development);
    assert_eq!(config.workers, None);
    assert_eq!(config.max_initial_line_length, 4096);
    assert_eq!(config.max_header_size, 8192);
    assert_eq!(config.max_headers, 100);
    assert_eq!(config.max_body_size, 10 * 1024 * 1024);
    assert_eq!(config.request_read_timeout, Some(Duration::from_secs(30)));
    assert_eq!(config.connection_idle_timeout, Some(Duration::from_secs(45)));
    assert_eq!(config.max_requests_per_connection, None);
    assert_eq!(config.connectors(), [EngineConnector::http("0.0.0.0", 8080)]);
}

#[test]
fn every_key_is_read() {
    let text = r#"
        rotor {
          development = yes
          deployment {
            host = "127.0.0.1"
            port = 0
            sslPort = 8443
            rootPath = "/api/"
            shutdownGracePeriod = 2s
            shutdownTimeout = 10 seconds
            workers = 4
            maxInitialLineLength = 1024
            maxHeaderSize = 16k
            maxHeaders = 50
            maxBodySize = 1MiB
            requestReadTimeoutSeconds = 0
            connectionIdleTimeoutSeconds = 2 minutes
            maxRequestsPerConnection = 1000
          }
          security.ssl { certificate = "cert.pem", privateKey = "key.pem" }
          application.modules = [ app.main, app.admin ]
        }
    "#;
    let config = ApplicationConfig::from_hocon_str(text, "application.conf").unwrap();
    let deployment = DeploymentConfig::from_config(&config, &no_env).unwrap();
    assert!(deployment.development);
    assert_eq!(deployment.host, "127.0.0.1");
    assert_eq!(deployment.port, 0);
    assert_eq!(deployment.ssl_port, Some(8443));
    assert_eq!(deployment.ssl_certificate, Some(PathBuf::from("cert.pem")));
    assert_eq!(deployment.ssl_private_key, Some(PathBuf::from("key.pem")));
    assert_eq!(deployment.root_path, "/api");
    assert_eq!(deployment.shutdown_grace_period, Duration::from_secs(2));
    assert_eq!(deployment.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(deployment.workers, Some(4));
    assert_eq!(deployment.max_initial_line_length, 1024);
    assert_eq!(deployment.max_header_size, 16384);
    assert_eq!(deployment.max_headers, 50);
    assert_eq!(deployment.max_body_size, 1024 * 1024);
    assert_eq!(deployment.request_read_timeout, None);
    assert_eq!(deployment.connection_idle_timeout, Some(Duration::from_secs(120)));
    assert_eq!(deployment.max_requests_per_connection, Some(1000));
    assert_eq!(deployment.modules, ["app.main", "app.admin"]);
    let connectors = deployment.connectors();
    assert_eq!(connectors.len(), 2);
    assert_eq!(connectors[1].kind, ConnectorKind::Https);
    assert_eq!(connectors[1].to_string(), "https://127.0.0.1:8443");
}

#[test]
fn port_from_environment_only_when_not_configured() {
    let env = |name: &str| (name == "PORT").then(|| "4242".to_owned());
    let empty = ApplicationConfig::new();
    assert_eq!(DeploymentConfig::from_config(&empty, &env).unwrap().port, 4242);
    assert_eq!(DeploymentConfig::from_config(&empty, &no_env).unwrap().port, 8080);
    let blank = |_: &str| Some(String::from(" "));
    assert_eq!(DeploymentConfig::from_config(&empty, &blank).unwrap().port, 8080);

    let configured = ApplicationConfig::from_pairs([("rotor.deployment.port", "1234")]);
    assert_eq!(DeploymentConfig::from_config(&configured, &env).unwrap().port, 1234);

    let bad = |_: &str| Some(String::from("http"));
    let message = DeploymentConfig::from_config(&empty, &bad).unwrap_err().to_string();
    assert!(message.contains("`PORT`") && message.contains("\"http\"") && message.contains("65535"), "{message}");
}

#[test]
fn port_substitution_in_the_file_and_the_port_flag() {
    let dir = std::env::temp_dir().join(format!("rotor-deployment-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("application.conf"), "rotor.deployment {\n  port = 8080\n  port = ${?PORT}\n}\n").unwrap();
    let env = |name: &str| (name == "PORT").then(|| "3000".to_owned());
    let load = |args: &[&str], env: &dyn Fn(&str) -> Option<String>| {
        let command_line = CommandLine::parse(args.iter().map(|arg| (*arg).to_owned())).unwrap();
        DeploymentConfig::from_config(&command_line.load_with(&dir, env).unwrap(), env).unwrap()
    };
    assert_eq!(load(&[], &env).port, 3000);
    assert_eq!(load(&[], &no_env).port, 8080);
    assert_eq!(load(&["-port=5000"], &env).port, 5000);
    assert_eq!(load(&["-P:rotor.deployment.port=6000"], &env).port, 6000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ktor_keys_work_unchanged() {
    let text = r#"
        ktor {
          development = true
          deployment { port = 9090, host = "::1", rootPath = "/shop", shutdownGracePeriod = 200, shutdownTimeout = 300 }
          application { modules = [ com.example.ApplicationKt.module ] }
        }
    "#;
    let config = ApplicationConfig::from_hocon_str(text, "application.conf").unwrap();
    let deployment = DeploymentConfig::from_config(&config, &no_env).unwrap();
    assert!(deployment.development);
    assert_eq!(deployment.port, 9090);
    assert_eq!(deployment.host, "::1");
    assert_eq!(deployment.root_path, "/shop");
    assert_eq!(deployment.shutdown_grace_period, Duration::from_millis(200));
    assert_eq!(deployment.shutdown_timeout, Duration::from_millis(300));
    assert_eq!(deployment.modules, ["com.example.ApplicationKt.module"]);
    assert_eq!(deployment.connectors()[0].to_string(), "http://[::1]:9090");
}

#[test]
fn wrong_values_name_the_key_and_what_was_expected() {
    for (key, value, needle) in [
        ("rotor.deployment.port", "eighty", "port number"),
        ("rotor.deployment.port", "65536", "port number"),
        ("rotor.deployment.port", "-1", "port number"),
        ("rotor.deployment.sslPort", "x", "port number"),
        ("rotor.deployment.host", " ", "empty"),
        ("rotor.deployment.rootPath", "api", "must start with `/`"),
        ("rotor.deployment.shutdownGracePeriod", "soon", "duration"),
        ("rotor.deployment.workers", "0", "at least 1"),
        ("rotor.deployment.workers", "many", "whole number"),
        ("rotor.deployment.maxHeaders", "0", "at least 1"),
        ("rotor.deployment.maxHeaderSize", "0", "from 1 byte"),
        ("rotor.deployment.maxInitialLineLength", "long", "size"),
        ("rotor.deployment.maxBodySize", "huge", "size"),
        ("rotor.deployment.requestReadTimeoutSeconds", "1.5", "seconds"),
        ("rotor.deployment.connectionIdleTimeoutSeconds", "forever", "seconds"),
        ("rotor.deployment.maxRequestsPerConnection", "0", "at least 1"),
        ("rotor.development", "perhaps", "boolean"),
        ("ktor.deployment.port", "eighty", "port number"),
    ] {
        let message = error(&[(key, value)]);
        assert!(message.contains(&format!("`{key}`")), "{key}: {message}");
        assert!(message.contains(needle), "{key}: {message}");
    }
    let config = ApplicationConfig::from_hocon_str("rotor.deployment.port = [1, 2]", "t").unwrap();
    let message = DeploymentConfig::from_config(&config, &no_env).unwrap_err().to_string();
    assert!(message.contains("`rotor.deployment.port`") && message.contains("list"), "{message}");
}

#[test]
fn shutdown_timeout_must_cover_the_grace_period() {
    let message = error(&[("rotor.deployment.shutdownGracePeriod", "3s"), ("rotor.deployment.shutdownTimeout", "2s")]);
    assert!(message.contains("`rotor.deployment.shutdownTimeout`"), "{message}");
    assert!(message.contains("`rotor.deployment.shutdownGracePeriod`"), "{message}");
}

#[test]
fn tls_needs_certificate_and_private_key() {
    let message = error(&[("rotor.deployment.sslPort", "8443")]);
    assert!(message.contains("`rotor.security.ssl.certificate`"), "{message}");
    let message = error(&[("rotor.deployment.sslPort", "8443"), ("rotor.security.ssl.certificate", "c.pem")]);
    assert!(message.contains("`rotor.security.ssl.privateKey`"), "{message}");
    let message = error(&[("rotor.security.ssl.privateKey", "k.pem")]);
    assert!(message.contains("`rotor.security.ssl.certificate`"), "{message}");
    let message = error(&[("ktor.deployment.sslPort", "8443"), ("ktor.security.ssl.keyStore", "keystore.jks")]);
    assert!(message.contains("`ktor.deployment.sslPort`") && message.contains("keyStore"), "{message}");

    let ok = deployment(&[
        ("rotor.deployment.sslPort", "8443"),
        ("rotor.security.ssl.certificate", "c.pem"),
        ("rotor.security.ssl.privateKey", "k.pem"),
    ])
    .unwrap();
    assert_eq!(ok.ssl_port, Some(8443));
}

#[test]
fn a_single_module_name_is_a_list_of_one() {
    assert_eq!(deployment(&[("rotor.application.modules", "app.main")]).unwrap().modules, ["app.main"]);
    let root = deployment(&[("rotor.deployment.rootPath", "/")]).unwrap();
    assert_eq!(root.root_path, "");
}
