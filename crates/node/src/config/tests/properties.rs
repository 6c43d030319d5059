//! Property tests: parsing never panics, whatever the bytes; well-formed unit strings convert
//! exactly; a bad value anywhere is named inside its own section.

use proptest::prelude::*;
use serde_json::Value;

use super::sample_json;
use crate::config::*;

/// Fields of the minimal configuration (and sections it lacks) to overwrite with arbitrary JSON.
const POINTERS: &[&str] = &[
    "/enclave/platform",
    "/enclave/type",
    "/network/node_to_node_interface",
    "/network/rpc_interfaces/interface_name",
    "/network/rpc_interfaces/interface_name/published_address",
    "/command/type",
    "/command/start/members/0",
    "/command/start/constitution_files",
    "/ledger",
    "/consensus",
    "/node_certificate",
    "/tick_interval",
    "/idle_connection_timeout",
    "/memory",
    "/attestation",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{0,4}(B|KB|MB|ms|s|min|us|x)?".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn unit_string() -> impl Strategy<Value = String> {
    "[0-9 ]{0,22}[a-zA-Z]{0,4}[0-9.+-]{0,2}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn size_and_duration_parsing_never_panics(text in any::<String>()) {
        let _ = parse_size_bytes(&text);
        let _ = parse_duration_us(&text);
        let _ = parse_duration_ms(&text);
    }

    #[test]
    fn near_miss_unit_strings_never_panic(text in unit_string()) {
        let size = parse_size_bytes(&text);
        let us = parse_duration_us(&text);
        // Milliseconds are microseconds rounded up, never zero for a positive duration.
        prop_assert_eq!(parse_duration_ms(&text), us.map(|us| us.div_ceil(1000)));
        // Whatever parses is digits, then spaces, then a unit: no signs, points or trailing junk.
        if size.is_some() || us.is_some() {
            prop_assert!(text.starts_with(|c: char| c.is_ascii_digit()));
            prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '));
        }
    }

    #[test]
    fn well_formed_sizes_convert_exactly(number in 0u64..(1 << 40), unit in 0usize..6) {
        let names = ["B", "KB", "MB", "GB", "TB", "PB"];
        let text = format!("{number}{}", names[unit]);
        let expected = 1024u64
            .checked_pow(u32::try_from(unit).unwrap())
            .and_then(|factor| number.checked_mul(factor));
        prop_assert_eq!(parse_size_bytes(&text), expected);
        prop_assert_eq!(parse_size_bytes(&text.to_lowercase()), expected);
    }

    #[test]
    fn well_formed_durations_convert_exactly(number in 0u64..(1 << 32), unit in 0usize..5) {
        let units = [("us", 1u64), ("ms", 1000), ("s", 1_000_000), ("min", 60_000_000), ("h", 3_600_000_000)];
        let (name, factor) = units[unit];
        let text = format!("{number}{name}");
        prop_assert_eq!(parse_duration_us(&text), Some(number * factor));
        prop_assert_eq!(parse_duration_ms(&text), Some((number * factor).div_ceil(1000)));
    }

    #[test]
    fn configuration_parsing_never_panics_on_any_text(text in any::<String>()) {
        let _ = parse_node_config(&text);
    }

    #[test]
    fn an_arbitrary_value_in_one_field_is_named_within_its_section(
        which in 0..POINTERS.len(),
        value in arbitrary_json(),
    ) {
        let pointer = POINTERS[which];
        let mut json = sample_json("minimal_config.json");
        json["enclave"]["platform"] = Value::from("Virtual");
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = if parent.is_empty() { &mut json } else { json.pointer_mut(parent).unwrap() };
        match parent {
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            other => other[key] = value,
        }
        if let Err(error) = parse_node_config(&json.to_string()) {
            let section = pointer.split('/').nth(1).unwrap();
            let path = error.path().unwrap();
            prop_assert!(path.starts_with(section), "{} not under {}", error, section);
        }
    }
}
