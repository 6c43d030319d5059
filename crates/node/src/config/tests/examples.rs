//! CCF's sample configurations parse, with the values they write and CCF's defaults for the rest.

use core::net::IpAddr;

use super::{SAMPLES, sample};
use crate::config::*;

fn parse(name: &str) -> NodeConfig {
    parse_node_config(sample(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn start_command(config: &NodeConfig) -> &StartCommand {
    match &config.command.kind {
        CommandKind::Start(start) => start,
        other => panic!("expected Start, got {other:?}"),
    }
}

#[test]
fn every_sample_configuration_parses() {
    for (name, text) in SAMPLES {
        let config = parse_node_config(text).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(config.enclave.platform, Platform::Snp, "{name}");
    }
}

#[test]
fn start_config_reads_every_value_it_writes() {
    let config = parse("start_config.json");
    assert_eq!(
        config.enclave,
        Enclave {
            file: Some("libjs_generic.enclave.so.signed".to_owned()),
            platform: Platform::Snp,
            enclave_type: EnclaveType::Release,
        }
    );
    let names: Vec<&str> = config
        .network
        .rpc_interfaces
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["primary_rpc_interface", "secondary_rpc_interface"]);
    let (main, primary) = config.main_rpc_interface().unwrap();
    assert_eq!(main, "primary_rpc_interface");
    assert_eq!(primary.bind_address, "127.0.0.1:8080");
    assert_eq!(primary.published_address, "ccf.dummy.com:12345");
    assert_eq!(primary.endorsement.authority, Authority::Service);
    let secondary = &config.network.rpc_interfaces["secondary_rpc_interface"];
    assert_eq!(secondary.endorsement.authority, Authority::Node);
    assert_eq!(secondary.published_address, "ccf.dummy.com:12346");

    assert_eq!(
        config.node_certificate,
        NodeCertificate {
            subject_name: "CN=CCF Node".to_owned(),
            subject_alt_names: vec![
                SubjectAltName::IpAddress(IpAddr::from([127, 0, 0, 1])),
                SubjectAltName::DnsName("ccf.dummy.com".to_owned()),
            ],
            curve_id: CurveId::Secp384R1,
            initial_validity_days: 1,
        }
    );

    assert_eq!(config.command.service_certificate_file, "service_cert.pem");
    let start = start_command(&config);
    assert_eq!(
        start.constitution_files,
        ["validate.js", "apply.js", "resolve.js", "actions.js"]
    );
    assert_eq!(
        start.members,
        [Member {
            certificate_file: "member0_cert.pem".to_owned(),
            encryption_public_key_file: Some("member0_enc_pubk.pem".to_owned()),
            data_json_file: None,
            recovery_role: None,
        }]
    );
    assert_eq!(
        start.service_configuration,
        ServiceConfiguration {
            recovery_threshold: 1,
            ..ServiceConfiguration::default()
        }
    );
    assert_eq!(start.initial_service_certificate_validity_days, 1);
    assert_eq!(start.service_subject_name, "CN=A Sample CCF Service");
    assert_eq!(
        start.cose_signatures,
        Some(CoseSignatures {
            issuer: Some("service.example.com".to_owned()),
            subject: Some("ledger.signature".to_owned()),
        })
    );

    assert_eq!(config.ledger, Ledger::default());
    assert_eq!(config.snapshots, Snapshots::default());
    assert_eq!(config.logging, Logging::default());
    assert_eq!(
        config.consensus,
        Consensus {
            election_timeout_ms: 4000,
            ..Consensus::default()
        }
    );
    assert_eq!(config.ledger_signatures, LedgerSignatures::default());
    assert_eq!(config.jwt.key_refresh_interval_ms, 1_800_000);
    assert_eq!(
        config.output_files,
        OutputFiles {
            node_certificate_file: "node.pem".to_owned(),
            pid_file: "node.pid".to_owned(),
            node_to_node_address_file: Some("node.node_address".to_owned()),
            rpc_addresses_file: Some("node.rpc_addresses".to_owned()),
            sealed_ledger_secret_location: None,
        }
    );
    assert_eq!(config.tick_interval_ms, 1);
    assert_eq!(config.slow_io_logging_threshold_ms, 10);
    assert_eq!(config.client_connection_timeout_ms, 2000);
    assert_eq!(config.worker_threads, 0);
    assert_eq!(config.memory, Memory::default());
}

#[test]
fn minimal_config_takes_ccf_defaults() {
    let config = parse("minimal_config.json");
    let n2n = &config.network.node_to_node_interface;
    assert_eq!(n2n.bind_address, "127.0.0.1:8081");
    assert_eq!(n2n.published_address, "127.0.0.1:8081");
    let interface = &config.network.rpc_interfaces["interface_name"];
    assert_eq!(interface.protocol, TransportProtocol::Tcp);
    assert_eq!(interface.app_protocol, AppProtocol::Http1);
    assert_eq!(interface.max_open_sessions_soft, 1000);
    assert_eq!(interface.max_open_sessions_hard, 1010);
    assert_eq!(
        interface.http_configuration,
        HttpConfiguration {
            max_body_size_bytes: 1 << 20,
            max_header_size_bytes: 16 << 10,
            max_headers_count: 256,
            max_concurrent_streams_count: 100,
            initial_window_size_bytes: 64 << 10,
            max_frame_size_bytes: 16 << 10,
        }
    );
    assert_eq!(interface.endorsement, Endorsement::default());
    assert_eq!(interface.accepted_endpoints, None);
    assert_eq!(interface.forwarding_timeout_ms, 3000);
    assert!(interface.enabled_operator_features.is_empty());
    assert_eq!(interface.redirections, None);
    assert_eq!(config.network.acme, None);

    assert_eq!(config.node_certificate, NodeCertificate::default());
    let start = start_command(&config);
    assert_eq!(start.service_configuration, ServiceConfiguration::default());
    assert_eq!(start.initial_service_certificate_validity_days, 1);
    assert_eq!(start.service_subject_name, "CN=CCF Service");
    assert_eq!(start.cose_signatures, None);

    assert_eq!(config.ledger.directory, "ledger");
    assert_eq!(config.ledger.chunk_size_bytes, 5 << 20);
    assert_eq!(config.snapshots.tx_count, 10_000);
    assert_eq!(config.consensus.message_timeout_ms, 100);
    assert_eq!(config.consensus.election_timeout_ms, 5000);
    assert_eq!(config.consensus.max_uncommitted_tx_count, 10_000);
    assert_eq!(config.ledger_signatures.tx_count, 5000);
    assert_eq!(config.ledger_signatures.delay_ms, 1000);
    assert_eq!(config.output_files, OutputFiles::default());
    assert_eq!(config.attestation, Attestation::default());
    assert_eq!(config.tick_interval_ms, 10);
    assert_eq!(config.slow_io_logging_threshold_ms, 10);
    assert_eq!(config.idle_connection_timeout_ms, Some(60_000));
    assert_eq!(config.memory.circuit_size_bytes, 16 << 20);
    assert_eq!(config.memory.max_msg_size_bytes, 64 << 20);
    assert_eq!(config.memory.max_fragment_size_bytes, 256 << 10);
    assert!(!config.ignore_first_sigterm);
    assert_eq!(config.node_to_node_message_limit, None);
    assert_eq!(config.historical_cache_soft_limit_bytes, 512 << 20);
    assert_eq!(config.node_data_json_file, None);
    assert_eq!(config.service_data_json_file, None);
}

#[test]
fn join_config_reads_the_target_and_join_defaults() {
    let config = parse("join_config.json");
    assert_eq!(config.command.command_type(), CommandType::Join);
    assert_eq!(
        config.command.kind,
        CommandKind::Join(JoinCommand {
            target_rpc_address: "127.0.0.1:8080".to_owned(),
            retry_timeout_ms: 1000,
            follow_redirect: true,
            fetch_recent_snapshot: true,
            fetch_snapshot_max_attempts: 3,
            fetch_snapshot_retry_interval_ms: 1000,
        })
    );
}

#[test]
fn recover_config_reads_the_previous_identity() {
    let config = parse("recover_config.json");
    assert_eq!(
        config.command.kind,
        CommandKind::Recover(RecoverCommand {
            previous_service_identity_file: "previous_service_cert.pem".to_owned(),
            initial_service_certificate_validity_days: 1,
            previous_sealed_ledger_secret_location: None,
        })
    );
}

#[test]
fn redirection_samples_read_their_resolvers() {
    let role = parse("minimal_config_redirects_role.json");
    assert_eq!(
        role.network.rpc_interfaces["interface_name"].redirections,
        Some(Redirections {
            to_primary: Some(RedirectionResolver::NodeByRole {
                role: NodeRole::Primary
            }),
            to_backup: None,
        })
    );
    let fixed = parse("minimal_config_redirects_static.json");
    assert_eq!(
        fixed.network.rpc_interfaces["interface_name"].redirections,
        Some(Redirections {
            to_primary: Some(RedirectionResolver::StaticAddress {
                address: "primary.ccf.dummy.com".to_owned()
            }),
            to_backup: None,
        })
    );
}

#[test]
fn snp_samples_read_their_attestation_sources() {
    let aci = parse("start_config_aci_sev_snp.json");
    assert_eq!(
        aci.attestation,
        Attestation {
            snp_security_policy_file: Some(
                "$UVM_SECURITY_CONTEXT_DIR/security-policy-base64".to_owned()
            ),
            snp_uvm_endorsements_file: Some(
                "$UVM_SECURITY_CONTEXT_DIR/reference-info-base64".to_owned()
            ),
            snp_endorsements_file: Some(
                "$UVM_SECURITY_CONTEXT_DIR/host-amd-cert-base64".to_owned()
            ),
            snp_endorsements_servers: vec![EndorsementServer {
                server_type: EndorsementServerType::Thim,
                url: "$Fabric_NodeIPOrFQDN:2377".to_owned(),
                max_retries_count: 3,
            }],
        }
    );
    let amd = parse("start_config_amd_sev_snp.json");
    assert_eq!(
        amd.attestation.snp_endorsements_servers[0].server_type,
        EndorsementServerType::Amd
    );
    assert_eq!(amd.attestation.snp_endorsements_file, None);
}

#[test]
fn a_join_node_may_carry_start_and_recover_sections() {
    // CCF's own test harness writes all three; only the one the type selects is kept.
    let mut json = super::sample_json("join_config.json");
    json["command"]["start"] =
        super::sample_json("minimal_config.json")["command"]["start"].clone();
    json["command"]["recover"] = serde_json::json!({ "previous_service_identity_file": "old.pem" });
    let config = parse_node_config(&json.to_string()).unwrap();
    assert_eq!(config.command.command_type(), CommandType::Join);
}

#[test]
fn nullable_fields_read_null_as_absent() {
    let mut json = super::sample_json("minimal_config.json");
    json["node_data_json_file"] = serde_json::Value::Null;
    json["idle_connection_timeout"] = serde_json::Value::Null;
    json["command"]["start"]["members"][0]["encryption_public_key_file"] = serde_json::Value::Null;
    let config = parse_node_config(&json.to_string()).unwrap();
    assert_eq!(config.node_data_json_file, None);
    assert_eq!(config.idle_connection_timeout_ms, None);
    assert_eq!(
        start_command(&config).members[0].encryption_public_key_file,
        None
    );
}
