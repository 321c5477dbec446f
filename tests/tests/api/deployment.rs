//! The compose file cannot run here (no container engine), so it is checked by reading: the
//! services exist, ports line up with the configuration the instances load, and the adapter
//! URLs name the compose services.

use serde_yaml::Value;
use std::path::PathBuf;
use weatherwise::config::Config;

fn compose() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("docker-compose.yml")).expect("valid YAML")
}

/// Loads the configuration an instance would load from this environment.
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
fn config_from(environment: &serde_yaml::Mapping) -> Config {
    let mut loaded = None;
    figment::Jail::expect_with(|jail| {
        for (key, value) in environment {
            let value = match value {
                Value::String(text) => text.clone(),
                other => serde_yaml::to_string(other).expect("scalar").trim().to_owned(),
            };
            jail.set_env(key.as_str().expect("key"), value);
        }
        loaded = Some(Config::load(std::path::Path::new("absent.toml")).map_err(|e| *e)?);
        Ok(())
    });
    loaded.expect("configuration loads")
}

fn host_port(port: &Value) -> (u16, u16) {
    let text = port.as_str().expect("quoted port mapping");
    let (host, container) = text.split_once(':').expect("host:container");
    (host.parse().expect("host port"), container.parse().expect("container port"))
}

#[test]
fn compose_file_matches_the_configuration() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    for name in ["postgres", "redis", "kafka", "minio", "weatherwise-1", "weatherwise-2"] {
        assert!(services.contains_key(name), "service {name}");
    }
    assert_eq!(host_port(&compose["services"]["postgres"]["ports"][0]).1, 5432);
    assert_eq!(host_port(&compose["services"]["redis"]["ports"][0]).1, 6379);
    let kafka = &compose["services"]["kafka"]["environment"];
    assert!(kafka["KAFKA_PROCESS_ROLES"].as_str().is_some_and(|r| r.contains("controller")), "KRaft mode");
    assert!(kafka["KAFKA_ADVERTISED_LISTENERS"].as_str().is_some_and(|l| l.contains("kafka:9092")));

    let mut host_ports = Vec::new();
    for instance in ["weatherwise-1", "weatherwise-2"] {
        // The YAML merge key `<<` is not expanded by serde_yaml: read the anchor directly.
        let environment = compose["x-weatherwise"]["environment"].as_mapping().expect("environment");
        let config = config_from(environment);
        let (host, container) = host_port(&compose["services"][instance]["ports"][0]);
        assert_eq!(config.http.listen.port(), container, "{instance} listens where compose maps");
        host_ports.push(host);
        let database = config.database_url();
        assert!(database.starts_with("postgres://") && database.contains("@postgres:5432/"), "{database}");
        assert!(config.state.url.expose().starts_with("redis://redis:6379"));
        assert_eq!(config.bus.url, "kafka://kafka:9092");
        assert_eq!(config.files.url, "s3://weatherwise", "photos shared through object storage");
        assert_eq!(config.files.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(config.auth.jwt_keys.len(), 1, "instances share configured signing keys");
        assert!(config.validate().is_ok());
        assert_eq!(config.log.format, "json");
    }
    host_ports.dedup();
    assert_eq!(host_ports.len(), 2, "the two instances are published on different host ports");
}
