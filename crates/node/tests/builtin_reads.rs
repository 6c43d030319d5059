//! The `/api` documents and the read-only built-ins of spec/ccf-api.md §1.1 and §1.2, driven
//! through NodeCore sans-IO. Tables the endpoints read are seeded with `execute_internal`, as
//! governance would have written them (spec §5 encodings).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::collections::BTreeSet;

use base64::Engine as _;
use cloister_crypto::{RsaKeyPair, SeededEntropy, first_pem_block};
use cloister_kv::Tx;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::core::{Frontend, Frontends};
use cloister_node::endpoints::openapi::{
    CCF_APP_OPENAPI, CCF_GOV_OPENAPI, CCF_NODE_OPENAPI, GOV_API_2023_06_01_PREVIEW,
    GOV_API_2024_07_01, document, is_hidden,
};
use cloister_node::rpc::{EndpointRegistry, Forwarding};
use serde_json::{Value, json};
use support::{AcceptAll, Harness, Identities, identity, random_ledger_secret};

const V2024: &str = "api-version=2024-07-01";
const SINGLETON: [u8; 8] = [0; 8];
const NODES_INFO: &str = "public:ccf.gov.nodes.info";
const SERVICE_INFO: &str = "public:ccf.gov.service.info";

impl Harness {
    /// A started, signed and persisted single-node service serving the logging app. No
    /// proposal runs in these tests; the constitution engine only has to exist.
    fn start() -> Harness {
        let mut entropy = SeededEntropy::from_seed(21);
        let identities = Identities::generate(&mut entropy, vec!["127.0.0.1".into()]);
        let (_, member_cert) = identity(&mut entropy, "member0");
        let ledger_secret = random_ledger_secret(&mut entropy);
        Harness::start_genesis(
            identities,
            &member_cert,
            String::new(),
            ledger_secret,
            Box::new(AcceptAll),
            Frontends::with_builtins(&[&LoggingApp]),
        )
    }

    /// GET expecting 200 with a JSON body.
    fn get_json(&mut self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(
            response.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.header("content-type"), Some("application/json"));
        serde_json::from_slice(&response.body).unwrap()
    }

    /// GET expecting an error: (status, code, message).
    fn get_error(&mut self, path: &str) -> (u16, String, String) {
        let response = self.get(path);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        (
            response.status,
            body["error"]["code"].as_str().unwrap().to_owned(),
            body["error"]["message"].as_str().unwrap().to_owned(),
        )
    }

    /// Writes as governance would have, in one transaction.
    fn seed(&mut self, write: impl FnOnce(&mut Tx)) {
        self.core.execute_internal(write).unwrap();
        self.drain_appends();
    }

    fn node_id(&self) -> String {
        self.core.node_id().to_string()
    }
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

// ---------------------------------------------------------------------------------------------
// OpenAPI documents

/// Every `$ref` of `document` names something in the document itself.
fn assert_refs_resolve(document: &Value) {
    fn walk(value: &Value, document: &Value) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    if let ("$ref", Value::String(reference)) = (key.as_str(), child) {
                        let pointer = reference.strip_prefix('#').unwrap();
                        assert!(
                            document.pointer(pointer).is_some(),
                            "dangling reference {reference}"
                        );
                    } else {
                        walk(child, document);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, document)),
            _ => {}
        }
    }
    walk(document, document);
}

/// (METHOD, full path) of every operation of `document`.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                out.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// (METHOD, full path) of the registry's endpoints that CCF would document.
fn documented_endpoints<H>(
    frontend: Frontend,
    prefix: &str,
    registry: &EndpointRegistry<H>,
) -> BTreeSet<(String, String)> {
    registry
        .endpoints()
        .filter(|e| !is_hidden(frontend, &e.method, e.template.as_str()))
        .map(|e| (e.method.clone(), format!("{prefix}{}", e.template.as_str())))
        .collect()
}

fn forwarding_name(forwarding: Forwarding) -> &'static str {
    match forwarding {
        Forwarding::Always => "always",
        Forwarding::Sometimes => "sometimes",
        Forwarding::Never => "never",
    }
}

/// `ours` is CCF's operation object apart from what Cloister rewrites.
fn assert_is_ccfs_operation(ours: &Value, ccf: &Value, what: &str) {
    let strip = |operation: &Value| {
        let mut operation = operation.clone();
        let object = operation.as_object_mut().unwrap();
        object.remove("x-ccf-forwarding");
        object.remove("security");
        operation
    };
    assert_eq!(strip(ours), strip(ccf), "{what}");
}

#[test]
fn node_api_lists_exactly_the_node_registry_with_ccfs_operations() {
    let mut h = Harness::start();
    let ours = h.get_json("/node/api");
    let ccf: Value = serde_json::from_str(CCF_NODE_OPENAPI).unwrap();
    assert_eq!(ours["openapi"], "3.0.0");
    assert_eq!(ours["info"], ccf["info"]);
    assert_eq!(ours["info"]["version"], "4.14.0");

    let frontends = Frontends::with_builtins(&[&LoggingApp]);
    let expected = documented_endpoints(Frontend::Node, "/node", &frontends.node);
    assert_eq!(operations(&ours), expected, "exactly the registry, no more");
    assert!(expected.contains(&("GET".into(), "/node/api".into())));

    let mut shared = 0;
    for endpoint in frontends.node.endpoints() {
        let path = format!("/node{}", endpoint.template.as_str());
        let method = endpoint.method.to_ascii_lowercase();
        let Some(theirs) = ccf["paths"][&path].get(&method) else {
            continue;
        };
        let mine = &ours["paths"][&path][&method];
        let what = format!("{method} {path}");
        assert_eq!(mine["operationId"], theirs["operationId"], "{what}");
        assert_is_ccfs_operation(mine, theirs, &what);
        // Cloister forwards as CCF documents it does.
        let forwarding = format!(
            "#/components/x-ccf-forwarding/{}",
            forwarding_name(endpoint.forwarding)
        );
        assert_eq!(mine["x-ccf-forwarding"]["$ref"], forwarding, "{what}");
        assert_eq!(theirs["x-ccf-forwarding"]["$ref"], forwarding, "{what}");
        assert_eq!(
            ours["paths"][&path].get("parameters"),
            ccf["paths"][&path].get("parameters")
        );
        shared += 1;
    }
    // Every documented /node endpoint Cloister has is one CCF documents (POST /join is hidden).
    let documented = frontends
        .node
        .endpoints()
        .filter(|e| !is_hidden(Frontend::Node, &e.method, e.template.as_str()))
        .count();
    assert_eq!(shared, documented);
    assert_refs_resolve(&ours);
    // Components are those referenced, copied as CCF has them.
    for (section, entries) in ours["components"].as_object().unwrap() {
        for (name, value) in entries.as_object().unwrap() {
            assert_eq!(value, &ccf["components"][section][name], "{section}/{name}");
        }
    }
}

#[test]
fn node_api_answers_the_same_document_built_from_the_registry() {
    let mut h = Harness::start();
    let served = h.get_json("/node/api");
    let frontends = Frontends::with_builtins(&[&LoggingApp]);
    assert_eq!(served, document(Frontend::Node, &frontends.node));
    // Unauthenticated, and a command that opens no table: no transaction id.
    let response = h.get("/node/api");
    assert_eq!(response.header("x-ms-ccf-transaction-id"), None);
}

#[test]
fn gov_api_is_the_classic_document_without_api_version() {
    let mut h = Harness::start();
    let ours = h.get_json("/gov/api");
    let ccf: Value = serde_json::from_str(CCF_GOV_OPENAPI).unwrap();
    assert_eq!(ours["info"], ccf["info"]);
    assert_eq!(ours["info"]["version"], "4.7.4");
    // CCF hides the 2024-07-01 API from this document; Cloister has no classic-only endpoint
    // yet, so it lists the common endpoints, each CCF's operation.
    let listed = operations(&ours);
    let expected: BTreeSet<(String, String)> = ["api", "commit", "tx", "receipt"]
        .iter()
        .map(|p| ("GET".to_owned(), format!("/gov/{p}")))
        .collect();
    assert_eq!(listed, expected);
    for (_, path) in &listed {
        assert_is_ccfs_operation(
            &ours["paths"][path]["get"],
            &ccf["paths"][path]["get"],
            path,
        );
    }
    assert_refs_resolve(&ours);
}

#[test]
fn gov_api_with_an_api_version_is_ccfs_swagger_document_verbatim() {
    let mut h = Harness::start();
    let v2024 = h.get(&format!("/gov/api?{V2024}"));
    assert_eq!(v2024.status, 200);
    assert_eq!(v2024.header("content-type"), Some("application/json"));
    assert_eq!(v2024.body, GOV_API_2024_07_01.as_bytes());
    let swagger: Value = serde_json::from_slice(&v2024.body).unwrap();
    assert_eq!(swagger["swagger"], "2.0");
    assert_eq!(swagger["info"]["version"], "2024-07-01");

    let preview = h.get("/gov/api?api-version=2023-06-01-preview");
    assert_eq!(preview.body, GOV_API_2023_06_01_PREVIEW.as_bytes());

    assert_eq!(
        h.get_error("/gov/api?api-version=2099-01-01"),
        (
            400,
            "UnsupportedApiVersionValue".into(),
            "Unsupported api-version '2099-01-01'. The supported api-versions are: \
             2023-06-01-preview, 2024-07-01"
                .into()
        )
    );
}

#[test]
fn app_api_documents_the_logging_app_with_ccfs_operations() {
    let mut h = Harness::start();
    // The app frontend opens once the service is Open at the committed level.
    assert_eq!(h.get_error("/app/api").1, "FrontendNotOpen");
    h.seed(|tx| {
        let mut info: Value =
            serde_json::from_slice(&tx.get(SERVICE_INFO, &SINGLETON).unwrap()).unwrap();
        info["status"] = json!("Open");
        tx.put(SERVICE_INFO, SINGLETON, json_bytes(&info));
    });
    h.sign_and_persist();
    let ours = h.get_json("/app/api");
    let ccf: Value = serde_json::from_str(CCF_APP_OPENAPI).unwrap();
    assert_eq!(ours["info"], ccf["info"]);

    let frontends = Frontends::with_builtins(&[&LoggingApp]);
    assert_eq!(
        operations(&ours),
        documented_endpoints(Frontend::App, "/app", &frontends.app)
    );
    for (method, path) in operations(&ours) {
        let method = method.to_ascii_lowercase();
        let theirs = &ccf["paths"][&path][&method];
        assert!(
            theirs.is_object(),
            "{method} {path} is in CCF's logging app"
        );
        assert_is_ccfs_operation(&ours["paths"][&path][&method], theirs, &path);
    }
    // Cloister's logging app authenticates by user certificate, which has no OpenAPI security
    // scheme in CCF's documents, so no operation claims JWT or COSE.
    let private = &ours["paths"]["/app/log/private"]["post"];
    assert_eq!(private["operationId"], "PostAppLogPrivate");
    assert!(private.get("security").is_none());
    assert!(ours["components"].get("securitySchemes").is_none());
    assert_refs_resolve(&ours);
}

#[test]
fn an_app_frontend_without_apps_documents_only_the_common_endpoints() {
    let frontends = Frontends::with_builtins(&[]);
    let ours = document(Frontend::App, &frontends.app);
    assert_eq!(ours["info"]["title"], "Cloister application");
    assert_eq!(operations(&ours).len(), 4);
    assert_eq!(ours["paths"]["/app/tx"]["get"]["operationId"], "GetAppTx");
    assert_refs_resolve(&ours);
}

// ---------------------------------------------------------------------------------------------
// /node reads

/// A `nodes.info` record in CCF's shape (spec §5) for a node other than this one.
fn node_record(status: &str, retired_committed: bool, n2n: &str) -> Value {
    json!({
        "node_to_node_interface": { "bind_address": n2n, "published_address": n2n },
        "rpc_interfaces": { "primary_rpc_interface": {
            "bind_address": "10.0.0.9:8000", "published_address": "10.0.0.9:8000",
            "protocol": "tcp", "app_protocol": "HTTP1",
        }},
        "quote_info": { "format": "Insecure_Virtual", "quote": "cXVvdGU=", "endorsements": "ZW5k" },
        "encryption_pub_key": "",
        "status": status,
        "retired_committed": retired_committed,
        "node_data": { "name": status },
    })
}

#[test]
fn removable_nodes_are_retired_nodes_whose_retirement_is_committed() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json("/node/network/removable_nodes"),
        json!({ "nodes": [] })
    );
    let (done, retiring) = ("a".repeat(64), "b".repeat(64));
    h.seed(|tx| {
        tx.put(
            NODES_INFO,
            done.as_bytes(),
            json_bytes(&node_record("Retired", true, "10.0.0.9:8001")),
        );
        tx.put(
            NODES_INFO,
            retiring.as_bytes(),
            json_bytes(&node_record("Retired", false, "10.0.0.8:8001")),
        );
    });
    let body = h.get_json("/node/network/removable_nodes");
    let nodes = body["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["node_id"], done);
    assert_eq!(nodes[0]["status"], "Retired");
    assert_eq!(nodes[0]["primary"], false);
    assert_eq!(nodes[0]["node_data"], json!({ "name": "Retired" }));
    assert_eq!(
        nodes[0]["rpc_interfaces"]["primary_rpc_interface"]["published_address"],
        "10.0.0.9:8000"
    );
}

#[test]
fn consensus_shows_one_leading_node_in_the_genesis_configuration() {
    let mut h = Harness::start();
    let id = h.node_id();
    let body = h.get_json("/node/consensus");
    let details = &body["details"];
    assert_eq!(details["leadership_state"], "Leader");
    assert_eq!(details["membership_state"], "Active");
    assert_eq!(details["primary_id"], id);
    assert_eq!(details["current_view"], 2);
    assert_eq!(details["ticking"], true);
    assert_eq!(details["acks"], json!({}));
    // The genesis transaction (2.1) created the configuration.
    assert_eq!(
        details["configs"],
        json!([{ "idx": 1, "rid": 1, "nodes": { id.clone(): { "address": "127.0.0.1:8001" } } }])
    );
    assert_eq!(
        h.get_json("/node/config"),
        json!({ id: { "address": "127.0.0.1:8001" } })
    );
}

#[test]
fn config_and_consensus_leave_out_nodes_that_are_not_trusted() {
    let mut h = Harness::start();
    h.seed(|tx| {
        let pending = node_record("Pending", false, "10.0.0.7:8001");
        tx.put(
            NODES_INFO,
            "c".repeat(64).into_bytes(),
            json_bytes(&pending),
        );
    });
    let config = h.get_json("/node/config");
    assert_eq!(config.as_object().unwrap().len(), 1);
    assert!(config.get(h.node_id().as_str()).is_some());
}

#[test]
fn metrics_list_every_rpc_interface_with_ccfs_default_caps() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json("/node/metrics"),
        json!({ "sessions": { "active": 0, "peak": 0, "interfaces": {
            "primary_rpc_interface": {
                "active": 0, "peak": 0, "soft_cap": 1000, "hard_cap": 1010,
                "errors": { "parsing": 0, "request_payload_too_large": 0, "request_header_too_large": 0 },
            }
        }}})
    );
}

#[test]
fn js_metrics_report_ccfs_defaults_then_what_governance_set() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json("/node/js_metrics"),
        json!({
            "bytecode_size": 0, "bytecode_used": false,
            "max_heap_size": 104_857_600, "max_stack_size": 1_048_576,
            "max_execution_time": 5000, "max_cached_interpreters": 10,
        })
    );
    h.seed(|tx| {
        let options = json!({
            "max_heap_bytes": 200_000_000, "max_stack_bytes": 2_000_000,
            "max_execution_time_ms": 7000, "log_exception_details": false,
            "return_exception_details": true, "max_cached_interpreters": 3,
        });
        tx.put(
            "public:ccf.gov.js_runtime_options",
            SINGLETON,
            json_bytes(&options),
        );
        tx.put(
            "public:ccf.gov.modules_quickjs_bytecode",
            b"/a.js".to_vec(),
            vec![7u8; 100],
        );
        tx.put(
            "public:ccf.gov.modules_quickjs_bytecode",
            b"/b.js".to_vec(),
            vec![7u8; 23],
        );
        tx.put(
            "public:ccf.gov.modules_quickjs_version",
            SINGLETON,
            b"quickjs-ng".to_vec(),
        );
    });
    assert_eq!(
        h.get_json("/node/js_metrics"),
        json!({
            "bytecode_size": 123, "bytecode_used": true,
            "max_heap_size": 200_000_000, "max_stack_size": 2_000_000,
            "max_execution_time": 7000, "max_cached_interpreters": 3,
        })
    );
}

#[test]
fn previous_identity_is_404_for_a_new_service_and_the_pem_after_a_recovery() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_error("/node/service/previous_identity"),
        (
            404,
            "ResourceNotFound".into(),
            "This service is not a recovery of a previous service.".into()
        )
    );
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    h.seed(|tx| {
        tx.put(
            "public:ccf.gov.service.previous_service_identity",
            SINGLETON,
            json_bytes(&json!(pem)),
        );
    });
    assert_eq!(
        h.get_json("/node/service/previous_identity"),
        json!({ "previous_service_identity": pem })
    );
}

#[test]
fn quotes_and_attestations_list_trusted_nodes_only() {
    let mut h = Harness::start();
    let id = h.node_id();
    let quotes = h.get_json("/node/quotes");
    assert_eq!(
        quotes,
        json!({ "quotes": [{ "node_id": id, "raw": "", "endorsements": "", "format": "Insecure_Virtual" }] })
    );
    h.seed(|tx| {
        let other = "d".repeat(64);
        tx.put(
            NODES_INFO,
            other.as_bytes(),
            json_bytes(&node_record("Trusted", false, "10.0.0.6:8001")),
        );
        tx.put(
            NODES_INFO,
            "e".repeat(64).into_bytes(),
            json_bytes(&node_record("Pending", false, "10.0.0.5:8001")),
        );
    });
    let quotes = h.get_json("/node/quotes")["quotes"].clone();
    let ids: Vec<&str> = quotes
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["node_id"].as_str().unwrap())
        .collect();
    let other = "d".repeat(64);
    let mut want = vec![id.as_str(), other.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let seeded = quotes
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["node_id"] == other)
        .unwrap();
    assert_eq!(seeded["raw"], "cXVvdGU=");
    assert_eq!(seeded["endorsements"], "ZW5k");
    assert_eq!(
        h.get_json("/node/attestations"),
        json!({ "attestations": quotes })
    );
}

#[test]
fn index_strategies_are_empty() {
    let mut h = Harness::start();
    assert_eq!(h.get_json("/node/index/strategies"), json!([]));
}

// ---------------------------------------------------------------------------------------------
// /gov reads

#[test]
fn join_policy_lists_what_may_join_per_platform() {
    let mut h = Harness::start();
    let empty = h.get_json(&format!("/gov/service/join-policy?{V2024}"));
    assert_eq!(
        empty,
        json!({
            "sgx": { "measurements": [] },
            "virtual": { "measurements": [], "hostData": [] },
            "snp": { "measurements": [], "hostData": {}, "uvmEndorsements": {}, "tcbVersions": {} },
        })
    );
    let snp_measurement = "a1".repeat(48);
    let did = "did:x509:0:sha256:abc::eku:1.3.6.1.4.1.311.76.59.1.2";
    h.seed(|tx| {
        let allowed = json_bytes(&json!("AllowedToJoin"));
        tx.put(
            "public:ccf.gov.nodes.code_ids",
            b"c0de".to_vec(),
            allowed.clone(),
        );
        tx.put(
            "public:ccf.gov.nodes.virtual.measurements",
            b"m1".to_vec(),
            allowed.clone(),
        );
        tx.put(
            "public:ccf.gov.nodes.virtual.host_data",
            b"h1".to_vec(),
            vec![0u8; 8],
        );
        tx.put(
            "public:ccf.gov.nodes.snp.measurements",
            snp_measurement.as_bytes(),
            allowed,
        );
        tx.put(
            "public:ccf.gov.nodes.snp.host_data",
            b"beef".to_vec(),
            json_bytes(&json!("package policy")),
        );
        tx.put(
            "public:ccf.gov.nodes.snp.uvm_endorsements",
            did.as_bytes(),
            json_bytes(&json!({ "ContainerPlat-AMD-UVM": { "svn": "100" } })),
        );
        tx.put(
            "public:ccf.gov.nodes.snp.tcb_versions",
            b"00a00f11".to_vec(),
            json_bytes(&json!({ "boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115 })),
        );
    });
    assert_eq!(
        h.get_json(&format!("/gov/service/join-policy?{V2024}")),
        json!({
            "sgx": { "measurements": ["c0de"] },
            "virtual": { "measurements": ["m1"], "hostData": ["h1"] },
            "snp": {
                "measurements": [snp_measurement],
                "hostData": { "beef": "package policy" },
                "uvmEndorsements": { did: { "ContainerPlat-AMD-UVM": { "svn": "100" } } },
                "tcbVersions": { "00a00f11": { "boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115 } },
            },
        })
    );
}

#[test]
fn join_policy_needs_an_api_version() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_error("/gov/service/join-policy").1,
        "MissingApiVersionParameter"
    );
}

#[test]
fn jwk_describes_issuers_keys_as_pem_and_ca_bundles() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json(&format!("/gov/service/jwk?{V2024}")),
        json!({ "issuers": {}, "keys": {}, "caCertBundles": {} })
    );
    let public_pem = RsaKeyPair::generate_2048().unwrap().public_key().to_pem();
    let der = first_pem_block(&public_pem, &["PUBLIC KEY"]).unwrap().der;
    let bundle = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    h.seed(|tx| {
        tx.put(
            "public:ccf.gov.jwt.issuers",
            b"https://login.example.com".to_vec(),
            json_bytes(&json!({ "auto_refresh": true, "ca_cert_bundle_name": "idp" })),
        );
        tx.put(
            "public:ccf.gov.jwt.issuers",
            b"manual".to_vec(),
            json_bytes(&json!({})),
        );
        let keys = json!([{
            "public_key": base64::engine::general_purpose::STANDARD.encode(&der),
            "issuer": "https://login.example.com",
        }]);
        tx.put(
            "public:ccf.gov.jwt.public_signing_keys_metadata_v2",
            b"kid1".to_vec(),
            json_bytes(&keys),
        );
        tx.put(
            "public:ccf.gov.tls.ca_cert_bundles",
            b"idp".to_vec(),
            json_bytes(&json!(bundle)),
        );
    });
    assert_eq!(
        h.get_json(&format!("/gov/service/jwk?{V2024}")),
        json!({
            "issuers": {
                "https://login.example.com": { "autoRefresh": true, "caCertBundleName": "idp" },
                "manual": { "autoRefresh": false },
            },
            "keys": { "kid1": [{
                "publicKey": public_pem,
                "issuer": "https://login.example.com",
                "constraint": null,
            }]},
            "caCertBundles": { "idp": bundle },
        })
    );
}

/// What `set_js_app` stores for one endpoint (spec §1.4, §4).
fn seed_js_app(h: &mut Harness) -> Value {
    let properties = json!({
        "js_module": "/math.js", "js_function": "compute",
        "forwarding_required": "sometimes", "authn_policies": ["user_cert", { "all_of": ["user_cert", "jwt"] }],
        "mode": "readonly", "openapi": { "summary": "adds" },
    });
    let stored = properties.clone();
    h.seed(move |tx| {
        tx.put(
            "public:ccf.gov.endpoints",
            b"POST /compute".to_vec(),
            json_bytes(&stored),
        );
        tx.put(
            "public:ccf.gov.modules",
            b"/math.js".to_vec(),
            b"export function compute() {}".to_vec(),
        );
        tx.put(
            "public:ccf.gov.modules",
            b"/lib/util.js".to_vec(),
            b"export const x = 1;".to_vec(),
        );
    });
    properties
}

#[test]
fn javascript_app_is_empty_until_an_app_is_set_then_describes_it() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json(&format!("/gov/service/javascript-app?{V2024}")),
        json!({ "endpoints": {} })
    );
    let stored = seed_js_app(&mut h);
    assert_eq!(
        h.get_json(&format!("/gov/service/javascript-app?{V2024}")),
        json!({ "endpoints": { "/compute": { "POST": {
            "jsModule": "/math.js", "jsFunction": "compute",
            "forwardingRequired": "sometimes", "redirectionStrategy": "none",
            "authnPolicies": ["user_cert", { "all_of": ["user_cert", "jwt"] }],
            "mode": "readonly", "openApi": { "summary": "adds" },
        }}}})
    );
    assert_eq!(
        h.get_json(&format!(
            "/gov/service/javascript-app?{V2024}&case=original"
        )),
        json!({ "endpoints": { "/compute": { "POST": stored } } })
    );
    assert_eq!(
        h.get_error(&format!("/gov/service/javascript-app?{V2024}&case=camel")),
        (
            400,
            "InvalidQueryParameterValue".into(),
            "Accepted values for the 'case' query parameter are: original".into()
        )
    );
}

#[test]
fn javascript_endpoints_need_api_version_2024_07_01() {
    let mut h = Harness::start();
    for path in [
        "/gov/service/javascript-app",
        "/gov/service/javascript-modules",
        "/gov/service/javascript-modules/x",
    ] {
        assert_eq!(
            h.get_error(&format!("{path}?api-version=2023-06-01-preview")),
            (
                400,
                "UnsupportedApiVersionValue".into(),
                "Unsupported api-version '2023-06-01-preview'. The supported api-versions are: \
                 2024-07-01"
                    .into()
            ),
            "{path}"
        );
        assert_eq!(
            h.get_error(path),
            (
                400,
                "MissingApiVersionParameter".into(),
                "The api-version query parameter (?api-version=) is required for all requests. \
                 The supported api-versions are: 2024-07-01"
                    .into()
            ),
            "{path}"
        );
    }
}

#[test]
fn javascript_modules_are_listed_and_served_by_url_encoded_name() {
    let mut h = Harness::start();
    assert_eq!(
        h.get_json(&format!("/gov/service/javascript-modules?{V2024}")),
        json!({ "value": [] })
    );
    seed_js_app(&mut h);
    assert_eq!(
        h.get_json(&format!("/gov/service/javascript-modules?{V2024}")),
        json!({ "value": [{ "moduleName": "/lib/util.js" }, { "moduleName": "/math.js" }] })
    );
    let module = h.get(&format!(
        "/gov/service/javascript-modules/%2Flib%2Futil.js?{V2024}"
    ));
    assert_eq!(module.status, 200);
    assert_eq!(module.header("content-type"), Some("text/javascript"));
    assert_eq!(module.body, b"export const x = 1;");
    assert_eq!(
        h.get_error(&format!(
            "/gov/service/javascript-modules/%2Fnope.js?{V2024}"
        )),
        (
            404,
            "ResourceNotFound".into(),
            "Module /nope.js does not exist.".into()
        )
    );
}
