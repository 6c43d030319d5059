//! JSON as CCF's nlohmann::json `dump()` writes it: keys sorted, no whitespace
//! (spec/ccf-internals.md §2.7). Going through `serde_json::Value`, whose objects are ordered maps,
//! sorts the keys whatever order a struct declares its fields in.

use serde::Serialize;

use crate::error::NodeError;

/// Serialises `value` with sorted keys and no whitespace.
pub fn to_ccf_json<T: Serialize>(value: &T) -> Result<Vec<u8>, NodeError> {
    let tree = serde_json::to_value(value).map_err(NodeError::Json)?;
    serde_json::to_vec(&tree).map_err(NodeError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Unordered {
        zeta: u8,
        alpha: &'static str,
    }

    #[test]
    fn keys_come_out_sorted_without_whitespace() {
        let bytes = to_ccf_json(&Unordered {
            zeta: 1,
            alpha: "a/b",
        })
        .unwrap();
        assert_eq!(bytes, br#"{"alpha":"a/b","zeta":1}"#);
    }
}
