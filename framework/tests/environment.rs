//! `ApplicationEnvironment`: built once, cheap to clone, with connectors and an event bus.

use rotor::config::{ApplicationConfig, DeploymentConfig};
use rotor::environment::{ApplicationEnvironment, ConnectorKind, EngineConnector};
use rotor::events::EventDefinition;

#[test]
fn defaults() {
    let environment = ApplicationEnvironment::default();
    assert!(!environment.development());
    assert!(!environment.is_test());
    assert_eq!(environment.root_path(), "");
    assert_eq!(environment.log_target(), "rotor::application");
    assert!(environment.connectors().is_empty());
    assert_eq!(environment.config().keys().count(), 0);
}

#[test]
fn development_is_read_from_rotor_or_ktor_keys_unless_set() {
    let build = |key: &str, value: &str| {
        ApplicationEnvironment::builder().config(ApplicationConfig::from_pairs([(key, value)])).build().development()
    };
    assert!(build("rotor.development", "true"));
    assert!(build("rotor.development", "yes"));
    assert!(build("ktor.development", "true"));
    assert!(!build("rotor.development", "false"));
    assert!(!build("rotor.development", "not a boolean"));
    let forced = ApplicationEnvironment::builder()
        .config(ApplicationConfig::from_pairs([("rotor.development", "true")]))
        .development(false)
        .build();
    assert!(!forced.development());
}

#[test]
fn ktor_environment_key_marks_a_test() {
    let environment = ApplicationEnvironment::builder()
        .config(ApplicationConfig::from_pairs([("ktor.deployment.environment", "test")]))
        .build();
    assert!(environment.is_test());
}

#[test]
fn connectors_from_the_builder_or_the_deployment_config() {
    let environment = ApplicationEnvironment::builder()
        .connector(EngineConnector::http("0.0.0.0", 8080))
        .connector(EngineConnector::https("0.0.0.0", 8443))
        .build();
    let kinds: Vec<ConnectorKind> = environment.connectors().iter().map(|connector| connector.kind).collect();
    assert_eq!(kinds, [ConnectorKind::Http, ConnectorKind::Https]);

    let mut deployment = DeploymentConfig::default(); // non-exhaustive: built by default, then set
    deployment.port = 9000;
    let environment = ApplicationEnvironment::builder()
        .connector(EngineConnector::http("ignored", 1))
        .connectors(deployment.connectors())
        .root_path("/api")
        .log_target("shop")
        .build();
    assert_eq!(environment.connectors(), [EngineConnector::http("0.0.0.0", 9000)]);
    assert_eq!(environment.root_path(), "/api");
    assert_eq!(environment.log_target(), "shop");
}

#[test]
fn clones_share_one_environment_and_one_bus() {
    const PING: EventDefinition<()> = EventDefinition::new("Ping");
    let environment = ApplicationEnvironment::builder().build();
    let clone = environment.clone();
    assert!(clone.ptr_eq(&environment));
    assert!(!ApplicationEnvironment::default().ptr_eq(&environment));
    environment.events().subscribe(&PING, |_: &()| {});
    assert_eq!(clone.events().handler_count(&PING), 1);
    assert!(format!("{environment:?}").contains("Ping"));
}

#[test]
fn environment_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ApplicationEnvironment>();
    assert_send_sync::<rotor::events::Events>();
    assert_send_sync::<rotor::events::Subscription>();
}
