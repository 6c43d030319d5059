//! JSON values in governance tables, as CCF's `ServiceMap`s store them (spec/ccf-api.md §5):
//! raw string keys, `nlohmann::json::dump()` values. CCF's JSON objects come out with their keys
//! sorted, so the record types of this crate declare their fields in alphabetical order and
//! serde_json writes the same bytes.

use cloister_kv::Tx;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::GovError;

/// The value under `key`, decoded; `None` when absent.
pub(crate) fn get_json<T: DeserializeOwned>(
    tx: &mut Tx,
    table: &'static str,
    key: &[u8],
) -> Result<Option<T>, GovError> {
    match tx.get(table, key) {
        None => Ok(None),
        Some(bytes) => decode(table, key, &bytes).map(Some),
    }
}

/// Writes `value` as JSON under `key`.
pub(crate) fn put_json<T: Serialize>(
    tx: &mut Tx,
    table: &'static str,
    key: &[u8],
    value: &T,
) -> Result<(), GovError> {
    let bytes = serde_json::to_vec(value).map_err(|e| GovError::Encode {
        table,
        reason: e.to_string(),
    })?;
    tx.put(table, key, bytes);
    Ok(())
}

/// Decodes one stored value, naming the table and key if it does not decode.
pub(crate) fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, GovError> {
    serde_json::from_slice(bytes).map_err(|e| GovError::CorruptValue {
        table,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}
