//! `check_supported` over the samples: the exact list of what Cloister would not honour.

use serde_json::{Value, json};

use super::{SAMPLES, sample, sample_json, virtual_sample};
use crate::config::*;

/// The findings for a configuration text, rendered (`path = value: reason`).
fn findings(text: &str) -> Vec<String> {
    let config = parse_node_config(text).unwrap();
    match check_supported(&config) {
        Ok(()) => Vec::new(),
        Err(list) => list.iter().map(ToString::to_string).collect(),
    }
}

fn paths(text: &str) -> Vec<String> {
    let config = parse_node_config(text).unwrap();
    check_supported(&config)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|unsupported| unsupported.path)
        .collect()
}

fn minimal_with(pointer: &str, value: Value) -> String {
    let mut json = sample_json("minimal_config.json");
    json["enclave"]["platform"] = Value::from("Virtual");
    *json.pointer_mut(pointer).unwrap() = value;
    json.to_string()
}

#[test]
fn minimal_config_on_the_virtual_platform_is_fully_supported() {
    let config = parse_node_config(&virtual_sample("minimal_config.json")).unwrap();
    assert_eq!(check_supported(&config), Ok(()));
}

#[test]
fn start_config_on_the_virtual_platform_lists_its_node_endorsed_interface_and_subject() {
    assert_eq!(
        findings(&virtual_sample("start_config.json")),
        [
            "network.rpc_interfaces.secondary_rpc_interface.endorsement.authority = \"Node\": \
             interfaces presenting the node's self-signed certificate are not served yet",
            "command.start.service_subject_name = \"CN=A Sample CCF Service\": \
             the service certificate's subject is always CN=CCF Service",
        ]
    );
}

#[test]
fn join_config_on_the_virtual_platform_is_supported_whole() {
    // Joining (with a snapshot fetched from the target) is supported since issue 4.
    assert!(findings(&virtual_sample("join_config.json")).is_empty());
}

#[test]
fn recover_config_on_the_virtual_platform_lists_recovery() {
    assert_eq!(
        findings(&virtual_sample("recover_config.json")),
        ["command.type = \"Recover\": disaster recovery is not supported yet"]
    );
}

#[test]
fn redirection_samples_on_the_virtual_platform_list_their_redirections() {
    for name in [
        "minimal_config_redirects_role.json",
        "minimal_config_redirects_static.json",
    ] {
        assert_eq!(
            paths(&virtual_sample(name)),
            ["network.rpc_interfaces.interface_name.redirections"],
            "{name}"
        );
    }
}

#[test]
fn every_sample_as_shipped_is_refused_for_its_snp_platform_first() {
    for (name, text) in SAMPLES {
        let first = findings(text).into_iter().next();
        assert_eq!(
            first.as_deref(),
            Some("enclave.platform = \"SNP\": only the virtual platform runs on this machine"),
            "{name}"
        );
    }
}

#[test]
fn snp_samples_list_the_platform_and_every_attestation_source() {
    assert_eq!(
        paths(sample("start_config_aci_sev_snp.json")),
        [
            "enclave.platform",
            "attestation.snp_security_policy_file",
            "attestation.snp_uvm_endorsements_file",
            "attestation.snp_endorsements_file",
            "attestation.snp_endorsements_servers",
        ]
    );
    for name in [
        "start_config_aks_sev_snp.json",
        "start_config_amd_sev_snp.json",
    ] {
        assert_eq!(
            paths(sample(name)),
            [
                "enclave.platform",
                "attestation.snp_security_policy_file",
                "attestation.snp_uvm_endorsements_file",
                "attestation.snp_endorsements_servers",
            ],
            "{name}"
        );
    }
}

#[test]
fn features_cloister_lacks_are_listed_whenever_asked_for() {
    let interface = "/network/rpc_interfaces/interface_name";
    let cases: Vec<(String, Value, &str)> = vec![
        (
            format!("{interface}/protocol"),
            json!("udp"),
            "network.rpc_interfaces.interface_name.protocol",
        ),
        (
            format!("{interface}/endorsement"),
            json!({ "authority": "Unsecured" }),
            "network.rpc_interfaces.interface_name.endorsement.authority",
        ),
        (
            format!("{interface}/endorsement"),
            json!({ "authority": "ACME", "acme_configuration": "le" }),
            "network.rpc_interfaces.interface_name.endorsement.authority",
        ),
        (
            format!("{interface}/accepted_endpoints"),
            json!(["^/app/.*"]),
            "network.rpc_interfaces.interface_name.accepted_endpoints",
        ),
        (
            format!("{interface}/enabled_operator_features"),
            json!(["SnapshotRead"]),
            "network.rpc_interfaces.interface_name.enabled_operator_features[0]",
        ),
        (
            "/network/acme".to_owned(),
            json!({ "configurations": {} }),
            "network.acme",
        ),
        (
            "/enclave/file".to_owned(),
            json!("liblogging.virtual.so"),
            "enclave.file",
        ),
        (
            "/command/start/members/0/recovery_role".to_owned(),
            json!("Owner"),
            "command.start.members[0].recovery_role",
        ),
        (
            "/command/start/service_configuration".to_owned(),
            json!({ "recovery_threshold": 1, "reconfiguration_type": "TwoTransaction" }),
            "command.start.service_configuration.reconfiguration_type",
        ),
        (
            "/node_certificate".to_owned(),
            json!({ "curve_id": "Secp256R1" }),
            "node_certificate.curve_id",
        ),
        (
            "/node_data_json_file".to_owned(),
            json!("node_data.json"),
            "node_data_json_file",
        ),
        (
            "/ledger".to_owned(),
            json!({ "read_only_directories": ["old"] }),
            "ledger.read_only_directories[0]",
        ),
        (
            "/snapshots".to_owned(),
            json!({ "read_only_directory": "snaps" }),
            "snapshots.read_only_directory",
        ),
        (
            "/output_files".to_owned(),
            json!({ "sealed_ledger_secret_location": "sealed" }),
            "output_files.sealed_ledger_secret_location",
        ),
        (
            "/ignore_first_sigterm".to_owned(),
            json!(true),
            "ignore_first_sigterm",
        ),
        (
            "/node_to_node_message_limit".to_owned(),
            json!(1000),
            "node_to_node_message_limit",
        ),
        (
            "/idle_connection_timeout".to_owned(),
            Value::Null,
            "idle_connection_timeout",
        ),
    ];
    for (pointer, value, path) in cases {
        let text = add_field(&pointer, value);
        assert_eq!(paths(&text), [path], "{pointer}");
    }
}

#[test]
fn tuning_values_are_listed_only_away_from_ccf_defaults() {
    let at_default = add_field("/memory", json!({ "circuit_size": "16MB" }));
    assert_eq!(paths(&at_default), Vec::<String>::new());
    let changed = add_field("/memory", json!({ "circuit_size": "4MB" }));
    assert_eq!(
        findings(&changed),
        ["memory.circuit_size = 4194304 bytes: Cloister has no host-enclave ring buffer to size"]
    );
    let workers = add_field("/worker_threads", json!(2));
    assert_eq!(paths(&workers), ["worker_threads"]);
    let window = add_field(
        "/command/start/service_configuration",
        json!({ "recovery_threshold": 0, "recent_cose_proposals_window_size": 50 }),
    );
    assert_eq!(
        paths(&window),
        ["command.start.service_configuration.recent_cose_proposals_window_size"]
    );
}

#[test]
fn http2_settings_are_listed_only_on_http2_interfaces() {
    let http = json!({ "max_frame_size": "32KB", "max_concurrent_streams_count": 10 });
    let on_http1 = minimal_with(
        "/network/rpc_interfaces/interface_name",
        json!({ "bind_address": "127.0.0.1:8080", "http_configuration": http }),
    );
    assert_eq!(paths(&on_http1), Vec::<String>::new());
    let on_http2 = minimal_with(
        "/network/rpc_interfaces/interface_name",
        json!({ "bind_address": "127.0.0.1:8080", "app_protocol": "HTTP2", "http_configuration": http }),
    );
    assert_eq!(
        paths(&on_http2),
        [
            "network.rpc_interfaces.interface_name.http_configuration.max_concurrent_streams_count",
            "network.rpc_interfaces.interface_name.http_configuration.max_frame_size",
        ]
    );
}

#[test]
fn a_node_without_rpc_interfaces_is_listed() {
    let text = minimal_with("/network/rpc_interfaces", json!({}));
    assert_eq!(paths(&text), ["network.rpc_interfaces"]);
}

/// The virtual minimal configuration with `value` set at `pointer` (parents must exist; the
/// last segment may be new).
fn add_field(pointer: &str, value: Value) -> String {
    let mut json = sample_json("minimal_config.json");
    json["enclave"]["platform"] = Value::from("Virtual");
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        &mut json
    } else {
        json.pointer_mut(parent).unwrap()
    };
    parent[key] = value;
    json.to_string()
}
