//! Tests over CCF's own sample configurations (testdata/ccf6-config, compiled in so the tests do
//! no I/O) and over table-driven bad values.

mod bad_values;
mod examples;
mod properties;
mod supported;

use serde_json::Value;

/// The text of a sample configuration from testdata/ccf6-config.
macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf6-config/",
            $name
        ))
    };
}

/// Every sample, by file name.
const SAMPLES: &[(&str, &str)] = &[
    ("start_config.json", sample!("start_config.json")),
    ("join_config.json", sample!("join_config.json")),
    ("recover_config.json", sample!("recover_config.json")),
    ("minimal_config.json", sample!("minimal_config.json")),
    (
        "minimal_config_redirects_role.json",
        sample!("minimal_config_redirects_role.json"),
    ),
    (
        "minimal_config_redirects_static.json",
        sample!("minimal_config_redirects_static.json"),
    ),
    (
        "start_config_aci_sev_snp.json",
        sample!("start_config_aci_sev_snp.json"),
    ),
    (
        "start_config_aks_sev_snp.json",
        sample!("start_config_aks_sev_snp.json"),
    ),
    (
        "start_config_amd_sev_snp.json",
        sample!("start_config_amd_sev_snp.json"),
    ),
];

/// The sample's text as shipped (every sample names the SNP platform).
fn sample(name: &str) -> &'static str {
    SAMPLES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no sample {name}"))
}

/// The sample as a JSON value.
fn sample_json(name: &str) -> Value {
    serde_json::from_str(sample(name)).unwrap()
}

/// The sample with `enclave.platform` switched to `"Virtual"`, as text.
fn virtual_sample(name: &str) -> String {
    let mut json = sample_json(name);
    json["enclave"]["platform"] = Value::from("Virtual");
    json.to_string()
}
