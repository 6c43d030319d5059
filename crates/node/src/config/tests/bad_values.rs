//! Table-driven refusals: each bad value is refused with an error that names its path.

use serde_json::{Value, json};

use super::sample_json;
use crate::config::*;

/// How a case changes the (virtual) minimal configuration.
enum Change {
    /// Sets the value at a JSON pointer; the last segment may be a new key.
    Set(&'static str, Value),
    /// Removes the key at a JSON pointer.
    Remove(&'static str),
}
use Change::{Remove, Set};

fn apply(change: Change) -> String {
    let mut json = sample_json("minimal_config.json");
    json["enclave"]["platform"] = Value::from("Virtual");
    let (pointer, value) = match change {
        Set(pointer, value) => (pointer, Some(value)),
        Remove(pointer) => (pointer, None),
    };
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut json
    } else {
        json.pointer_mut(parent).unwrap()
    };
    match (parent, value) {
        (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
        (Value::Object(map), Some(value)) => {
            map.insert(key.to_owned(), value);
        }
        (Value::Object(map), None) => {
            map.remove(key).unwrap();
        }
        (other, _) => panic!("cannot change {pointer} in {other}"),
    }
    json.to_string()
}

const IFACE: &str = "network.rpc_interfaces.interface_name";

#[test]
fn each_bad_value_is_refused_naming_its_path() {
    let cases: Vec<(Change, String)> = vec![
        // Required fields.
        (Remove("/enclave"), "enclave is required".into()),
        (Remove("/network"), "network is required".into()),
        (Remove("/command"), "command is required".into()),
        (Remove("/command/type"), "command.type is required".into()),
        (
            Remove("/enclave/platform"),
            "enclave.platform is required".into(),
        ),
        (Remove("/enclave/type"), "enclave.type is required".into()),
        (
            Remove("/network/node_to_node_interface"),
            "network.node_to_node_interface is required".into(),
        ),
        (
            Remove("/network/rpc_interfaces/interface_name/bind_address"),
            format!("{IFACE}.bind_address is required"),
        ),
        (Remove("/command/start"), "command.start is required".into()),
        (
            Set("/command/type", json!("Join")),
            "command.join is required".into(),
        ),
        (
            Set("/command/type", json!("Recover")),
            "command.recover is required".into(),
        ),
        (
            Remove("/command/start/members"),
            "command.start.members is required".into(),
        ),
        (
            Remove("/command/start/constitution_files"),
            "command.start.constitution_files is required".into(),
        ),
        (
            Remove("/command/start/members/0/certificate_file"),
            "command.start.members[0].certificate_file is required".into(),
        ),
        (
            Set("/command/start/service_configuration", json!({})),
            "command.start.service_configuration.recovery_threshold is required".into(),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/endorsement",
                json!({}),
            ),
            format!("{IFACE}.endorsement.authority is required"),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/endorsement",
                json!({ "authority": "ACME" }),
            ),
            format!("{IFACE}.endorsement.acme_configuration is required"),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/redirections",
                json!({ "to_primary": { "kind": "StaticAddress" } }),
            ),
            format!("{IFACE}.redirections.to_primary.target is required"),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/redirections",
                json!({ "to_backup": { "target": { "role": "backup" } } }),
            ),
            format!("{IFACE}.redirections.to_backup.kind is required"),
        ),
        (
            Set("/attestation", json!({ "snp_endorsements_servers": [{}] })),
            "attestation.snp_endorsements_servers[0].url is required".into(),
        ),
        // Enumerations (exact spelling, as CCF's JSON enums).
        (
            Set("/enclave/platform", json!("SGX")),
            "enclave.platform: \"SGX\" is not one of \"SNP\", \"Virtual\"".into(),
        ),
        (
            Set("/enclave/platform", json!("virtual")),
            "enclave.platform: \"virtual\" is not one of \"SNP\", \"Virtual\"".into(),
        ),
        (
            Set("/command/type", json!("Restart")),
            "command.type: \"Restart\" is not one of \"Start\", \"Join\", \"Recover\"".into(),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/app_protocol",
                json!("HTTP3"),
            ),
            format!("{IFACE}.app_protocol: \"HTTP3\" is not one of \"HTTP1\", \"HTTP2\""),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/protocol",
                json!("quic"),
            ),
            format!("{IFACE}.protocol: \"quic\" is not one of \"tcp\", \"udp\""),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/redirections",
                json!({ "to_primary": { "kind": "NodeByRole", "target": { "role": "leader" } } }),
            ),
            format!(
                "{IFACE}.redirections.to_primary.target.role: \"leader\" is not one of \
                 \"primary\", \"backup\""
            ),
        ),
        (
            Set("/command/start/members/0/recovery_role", json!("Boss")),
            "command.start.members[0].recovery_role: \"Boss\" is not one of \
             \"NonParticipant\", \"Participant\", \"Owner\""
                .into(),
        ),
        (
            Set("/node_certificate", json!({ "curve_id": "Secp521R1" })),
            "node_certificate.curve_id: \"Secp521R1\" is not one of \"Secp384R1\", \"Secp256R1\""
                .into(),
        ),
        (
            Set("/logging", json!({ "host_level": "Warning" })),
            "logging.host_level: \"Warning\" is not one of \"Trace\", \"Debug\", \"Info\", \
             \"Fail\", \"Fatal\""
                .into(),
        ),
        (
            Set(
                "/attestation",
                json!({ "snp_endorsements_servers": [{ "type": "Intel", "url": "x" }] }),
            ),
            "attestation.snp_endorsements_servers[0].type: \"Intel\" is not one of \"Azure\", \
             \"AMD\", \"THIM\""
                .into(),
        ),
        // Unknown fields.
        (
            Set("/foo", json!(1)),
            "foo is not a CCF configuration field".into(),
        ),
        (
            Set("/network/foo", json!(1)),
            "network.foo is not a CCF configuration field".into(),
        ),
        (
            Set("/network/rpc_interfaces/interface_name/foo", json!(1)),
            format!("{IFACE}.foo is not a CCF configuration field"),
        ),
        (
            Set("/command/start/members/0/role", json!("Owner")),
            "command.start.members[0].role is not a CCF configuration field".into(),
        ),
        (
            Set("/ledger", json!({ "chunk_sz": "1MB" })),
            "ledger.chunk_sz is not a CCF configuration field".into(),
        ),
        (
            Set(
                "/command/join",
                json!({ "target_rpc_address": "a:1", "retry": "1s" }),
            ),
            "command.join.retry is not a CCF configuration field".into(),
        ),
        // Sizes and durations.
        (
            Set("/ledger", json!({ "chunk_size": "5XB" })),
            "ledger.chunk_size: \"5XB\" is not a size".into(),
        ),
        (
            Set("/ledger", json!({ "chunk_size": "1.5MB" })),
            "ledger.chunk_size: \"1.5MB\" is not a size".into(),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/http_configuration",
                json!({ "max_body_size": "1 MiB" }),
            ),
            format!("{IFACE}.http_configuration.max_body_size: \"1 MiB\" is not a size"),
        ),
        (
            Set("/memory", json!({ "circuit_size": "" })),
            "memory.circuit_size: \"\" is not a size".into(),
        ),
        (
            Set("/historical_cache_soft_limit", json!("lots")),
            "historical_cache_soft_limit: \"lots\" is not a size".into(),
        ),
        (
            Set("/consensus", json!({ "election_timeout": "5 seconds" })),
            "consensus.election_timeout: \"5 seconds\" is not a duration".into(),
        ),
        (
            Set("/ledger_signatures", json!({ "delay": "1.5s" })),
            "ledger_signatures.delay: \"1.5s\" is not a duration".into(),
        ),
        (
            Set("/jwt", json!({ "key_refresh_interval": "30 minutes" })),
            "jwt.key_refresh_interval: \"30 minutes\" is not a duration".into(),
        ),
        (
            Set("/tick_interval", json!("10MB")),
            "tick_interval: \"10MB\" is not a duration".into(),
        ),
        (
            Set("/idle_connection_timeout", json!("forever")),
            "idle_connection_timeout: \"forever\" is not a duration".into(),
        ),
        // Types.
        (
            Set("/ledger", json!({ "chunk_size": 5 })),
            "ledger.chunk_size: expected a string, found a number".into(),
        ),
        (
            Set("/enclave", Value::Null),
            "enclave: expected an object, found null".into(),
        ),
        (
            Set("/network/rpc_interfaces", json!([])),
            "network.rpc_interfaces: expected an object, found an array".into(),
        ),
        (
            Set("/command/start/members", json!("member0_cert.pem")),
            "command.start.members: expected an array, found a string".into(),
        ),
        (
            Set("/command/start/constitution_files/1", json!(7)),
            "command.start.constitution_files[1]: expected a string, found a number".into(),
        ),
        (
            Set("/command/start/members/0", json!("member0_cert.pem")),
            "command.start.members[0]: expected an object, found a string".into(),
        ),
        (
            Set("/worker_threads", json!(1.5)),
            "worker_threads: expected an integer, found a number".into(),
        ),
        (
            Set("/worker_threads", json!("2")),
            "worker_threads: expected an integer, found a string".into(),
        ),
        (
            Set("/ignore_first_sigterm", json!("yes")),
            "ignore_first_sigterm: expected a boolean, found a string".into(),
        ),
        (
            Set("/network/node_to_node_interface/bind_address", json!(8081)),
            "network.node_to_node_interface.bind_address: expected a string, found a number".into(),
        ),
        (
            Set("/command/service_certificate_file", Value::Null),
            "command.service_certificate_file: expected a string, found null".into(),
        ),
        // Minimums.
        (
            Set("/snapshots", json!({ "tx_count": 0 })),
            "snapshots.tx_count: 0 is below the minimum 1".into(),
        ),
        (
            Set("/ledger_signatures", json!({ "tx_count": -1 })),
            "ledger_signatures.tx_count: -1 is below the minimum 1".into(),
        ),
        (
            Set("/worker_threads", json!(-2)),
            "worker_threads: -2 is below the minimum 0".into(),
        ),
        (
            Set(
                "/network/rpc_interfaces/interface_name/http_configuration",
                json!({ "max_concurrent_streams_count": 0 }),
            ),
            format!(
                "{IFACE}.http_configuration.max_concurrent_streams_count: 0 is below the minimum 1"
            ),
        ),
        (
            Set("/node_certificate", json!({ "initial_validity_days": 0 })),
            "node_certificate.initial_validity_days: 0 is below the minimum 1".into(),
        ),
        // Values CCF itself would refuse.
        (
            Set(
                "/node_certificate",
                json!({ "subject_alt_names": ["iPAddress:nope"] }),
            ),
            "node_certificate.subject_alt_names[0]: \"nope\" is not an IP address".into(),
        ),
        (
            Set(
                "/node_certificate",
                json!({ "subject_alt_names": ["dNSName:a", "ccf.dummy.com"] }),
            ),
            "node_certificate.subject_alt_names[1]: \"ccf.dummy.com\" is not a subject \
             alternative name (\"iPAddress:…\" or \"dNSName:…\")"
                .into(),
        ),
    ];
    for (change, expected) in cases {
        let text = apply(change);
        let error = parse_node_config(&text).expect_err(&expected);
        assert_eq!(error.to_string(), expected);
        let path = error.path().unwrap();
        assert!(
            expected.starts_with(path),
            "{expected} does not lead with {path}"
        );
    }
}

#[test]
fn errors_carry_the_exact_variant() {
    let text = apply(Set("/ledger", json!({ "chunk_size": "5XB" })));
    assert_eq!(
        parse_node_config(&text),
        Err(ConfigError::BadSize {
            path: "ledger.chunk_size".to_owned(),
            value: "5XB".to_owned(),
        })
    );
    let text = apply(Remove("/command/type"));
    assert_eq!(
        parse_node_config(&text),
        Err(ConfigError::Missing {
            path: "command.type".to_owned()
        })
    );
    let text = apply(Set("/network/foo", json!({})));
    assert_eq!(
        parse_node_config(&text),
        Err(ConfigError::UnknownField {
            path: "network.foo".to_owned()
        })
    );
}

#[test]
fn sections_for_other_command_types_are_checked_too() {
    let mut json = sample_json("join_config.json");
    json["command"]["start"] = json!({ "members": [], "constitution_files": [], "bogus": 1 });
    assert_eq!(
        parse_node_config(&json.to_string())
            .unwrap_err()
            .to_string(),
        "command.start.bogus is not a CCF configuration field"
    );
}

#[test]
fn text_that_is_not_json_is_refused_with_its_position() {
    let error = parse_node_config("{\n  \"enclave\": ,\n}").unwrap_err();
    assert!(
        matches!(error, ConfigError::Json { line: 2, .. }),
        "{error}"
    );
    assert_eq!(error.path(), None);
    assert!(matches!(
        parse_node_config(""),
        Err(ConfigError::Json { .. })
    ));
}

#[test]
fn a_document_that_is_not_an_object_is_refused() {
    assert_eq!(
        parse_node_config("[]").unwrap_err().to_string(),
        "configuration: expected an object, found an array"
    );
}
