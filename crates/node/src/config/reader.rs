//! Reading one JSON object of the configuration with its path in hand, so every error names the
//! field (`ConfigError`). Each section lists the fields CCF's schema gives it; any other key is
//! refused by name, as CCF's own schema validation (`additionalProperties: false`) refuses it.
//!
//! Types follow the schema: a field typed `string` may not be `null`; fields typed
//! `["string", "null"]` read `null` as absent.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::ConfigError;
use super::units::{parse_duration_ms, parse_size_bytes};

/// The path shown for the whole document.
const ROOT: &str = "configuration";

/// A section of the configuration: an object with a fixed set of fields.
pub(crate) trait Section: Sized {
    /// The keys CCF's schema defines for this object.
    const FIELDS: &'static [&'static str];

    /// Reads the section; absent fields take CCF's defaults.
    fn read(fields: &Fields<'_>) -> Result<Self, ConfigError>;
}

/// One JSON object of the configuration (or an absent one, which reads as all defaults).
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// The object at `path`, which may hold only the `known` keys.
    pub(crate) fn of(
        value: &'a Value,
        path: String,
        known: &[&str],
    ) -> Result<Fields<'a>, ConfigError> {
        let Value::Object(map) = value else {
            return Err(wrong_type(&path, "an object", value));
        };
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ConfigError::UnknownField {
                path: child(&path, unknown),
            });
        }
        Ok(Fields {
            path,
            map: Some(map),
        })
    }

    /// A section that is not in the file: every field takes its default.
    pub(crate) fn absent(path: String) -> Fields<'a> {
        Fields { path, map: None }
    }

    /// The sub-object at `key` (absent if the key is), which may hold only the `known` keys.
    pub(crate) fn section(&self, key: &str, known: &[&str]) -> Result<Fields<'a>, ConfigError> {
        match self.get(key) {
            None => Ok(Fields::absent(self.path_of(key))),
            Some(value) => Fields::of(value, self.path_of(key), known),
        }
    }

    /// The section `S` at `key`; an absent section reads as all defaults.
    pub(crate) fn read_section<S: Section>(&self, key: &str) -> Result<S, ConfigError> {
        S::read(&self.section(key, S::FIELDS)?)
    }

    /// The optional section `S` at `key`: `None` when absent.
    pub(crate) fn read_optional_section<S: Section>(
        &self,
        key: &str,
    ) -> Result<Option<S>, ConfigError> {
        if self.has(key) {
            self.read_section(key).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The array at `key` of sections `S`, items named `key[i]`.
    pub(crate) fn read_list<S: Section>(&self, key: &str) -> Result<Option<Vec<S>>, ConfigError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        let path = self.path_of(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| S::read(&Fields::of(item, index(&path, i), S::FIELDS)?))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The object at `key` mapping operator-chosen names to sections `S`, in name order (CCF
    /// holds them in a `std::map`).
    pub(crate) fn read_named<S: Section>(
        &self,
        key: &str,
    ) -> Result<Option<BTreeMap<String, S>>, ConfigError> {
        let Some(map) = self.named_objects(key)? else {
            return Ok(None);
        };
        let path = self.path_of(key);
        map.iter()
            .map(|(name, item)| {
                let section = S::read(&Fields::of(item, child(&path, name), S::FIELDS)?)?;
                Ok((name.clone(), section))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Some)
    }

    /// Whether `key` is present (even as `null`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether the object is in the file (false for a section read as all defaults).
    pub(crate) fn is_present(&self) -> bool {
        self.map.is_some()
    }

    /// The path of `key` inside this object.
    pub(crate) fn path_of(&self, key: &str) -> String {
        child(&self.path, key)
    }

    /// The raw value of `key`, if present (including `null`).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|map| map.get(key))
    }

    /// The raw value of `key`, or `Missing`.
    pub(crate) fn required(&self, key: &str) -> Result<&'a Value, ConfigError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// A field typed `string`.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.get(key)
            .map(|value| as_string(value, &self.path_of(key)).map(str::to_owned))
            .transpose()
    }

    /// A field typed `["string", "null"]`: `null` reads as absent.
    pub(crate) fn nullable_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            Some(Value::Null) => Ok(None),
            _ => self.string(key),
        }
    }

    /// A required field typed `string`.
    pub(crate) fn required_string(&self, key: &str) -> Result<String, ConfigError> {
        let value = self.required(key)?;
        as_string(value, &self.path_of(key)).map(str::to_owned)
    }

    /// A field typed `boolean`.
    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong_type(&self.path_of(key), "a boolean", other)),
        }
    }

    /// A field typed `integer` with the schema's `minimum` (0 when it has none: CCF reads these
    /// into unsigned integers).
    pub(crate) fn integer(&self, key: &str, minimum: u64) -> Result<Option<u64>, ConfigError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path_of(key);
        let Value::Number(number) = value else {
            return Err(wrong_type(&path, "an integer", value));
        };
        if let Some(unsigned) = number.as_u64() {
            if unsigned >= minimum {
                return Ok(Some(unsigned));
            }
        } else if number.as_i64().is_none() {
            // Neither u64 nor i64: a fraction or a number beyond 64 bits.
            return Err(wrong_type(&path, "an integer", value));
        }
        Err(ConfigError::BelowMinimum {
            path,
            value: number.to_string(),
            minimum,
        })
    }

    /// A size string field, in bytes.
    pub(crate) fn size_bytes(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        parse_size_bytes(&text)
            .map(Some)
            .ok_or_else(|| ConfigError::BadSize {
                path: self.path_of(key),
                value: text,
            })
    }

    /// A time string field, in milliseconds.
    pub(crate) fn duration_ms(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        parse_duration_ms(&text)
            .map(Some)
            .ok_or_else(|| ConfigError::BadDuration {
                path: self.path_of(key),
                value: text,
            })
    }

    /// A string field restricted to the values of `choices`.
    pub(crate) fn choice<E: Copy>(
        &self,
        key: &str,
        choices: &[(&str, E)],
    ) -> Result<Option<E>, ConfigError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path_of(key);
        let text = as_string(value, &path)?;
        match choices.iter().find(|(name, _)| *name == text) {
            Some((_, choice)) => Ok(Some(*choice)),
            None => Err(ConfigError::BadChoice {
                path,
                value: text.to_owned(),
                allowed: choices
                    .iter()
                    .map(|(name, _)| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// A required string field restricted to the values of `choices`.
    pub(crate) fn required_choice<E: Copy>(
        &self,
        key: &str,
        choices: &[(&str, E)],
    ) -> Result<E, ConfigError> {
        self.choice(key, choices)?.ok_or_else(|| self.missing(key))
    }

    /// The error for a required `key` that is absent.
    pub(crate) fn missing(&self, key: &str) -> ConfigError {
        ConfigError::Missing {
            path: self.path_of(key),
        }
    }

    /// A field typed `array` of `string`.
    pub(crate) fn strings(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        let path = self.path_of(key);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| as_string(item, &index(&path, i)).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A field typed `array`, items unread.
    pub(crate) fn array(&self, key: &str) -> Result<Option<&'a [Value]>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(&self.path_of(key), "an array", other)),
        }
    }

    /// A field typed `object` whose keys are names chosen by the operator (RPC interfaces, ACME
    /// configurations), in key order, as CCF's `std::map` holds them.
    pub(crate) fn named_objects(
        &self,
        key: &str,
    ) -> Result<Option<&'a Map<String, Value>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(wrong_type(&self.path_of(key), "an object", other)),
        }
    }
}

/// Parses a whole document; JSON syntax errors carry their line and column.
pub(crate) fn parse_document(text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|error| ConfigError::Json {
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    })
}

/// The path of `key` inside the object at `parent` (`""` is the document itself).
pub(crate) fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of item `i` of the array at `parent`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

pub(crate) fn as_string<'v>(value: &'v Value, path: &str) -> Result<&'v str, ConfigError> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(path, "a string", value))
}

pub(crate) fn wrong_type(path: &str, expected: &'static str, found: &Value) -> ConfigError {
    ConfigError::WrongType {
        path: if path.is_empty() {
            ROOT.to_owned()
        } else {
            path.to_owned()
        },
        expected,
        found: kind_of(found),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Declares a string enumeration of the configuration: the Rust enum, its JSON names (exactly
/// as CCF spells them: matching is case-sensitive, as in CCF's `DECLARE_JSON_ENUM`) and
/// `as_str`.
macro_rules! config_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// The JSON names of the values, in the schema's order.
            pub const CHOICES: &'static [(&'static str, $name)] = &[$(($text, $name::$variant),)+];

            /// The value as CCF's JSON spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use config_enum;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let value = json!({ "bind_address": "x", "foo": 1 });
        let error = Fields::of(&value, "network".to_owned(), &["bind_address"]).unwrap_err();
        assert_eq!(
            error,
            ConfigError::UnknownField {
                path: "network.foo".to_owned()
            }
        );
    }

    #[test]
    fn a_non_object_document_is_a_type_error_at_the_root() {
        let value = json!([1]);
        let error = Fields::of(&value, String::new(), &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration: expected an object, found an array"
        );
    }

    #[test]
    fn integers_respect_minimum_and_refuse_fractions() {
        let value = json!({ "a": 0, "b": -3, "c": 1.5, "d": 7, "e": 1e30 });
        let fields = Fields::of(&value, "s".to_owned(), &["a", "b", "c", "d", "e"]).unwrap();
        assert!(matches!(
            fields.integer("a", 1),
            Err(ConfigError::BelowMinimum { minimum: 1, .. })
        ));
        assert_eq!(
            fields.integer("b", 0).unwrap_err().to_string(),
            "s.b: -3 is below the minimum 0"
        );
        assert_eq!(
            fields.integer("c", 0).unwrap_err().to_string(),
            "s.c: expected an integer, found a number"
        );
        assert!(matches!(
            fields.integer("e", 0),
            Err(ConfigError::WrongType { .. })
        ));
        assert_eq!(fields.integer("d", 1).unwrap(), Some(7));
        assert_eq!(fields.integer("z", 1).unwrap(), None);
    }

    #[test]
    fn null_is_absent_only_for_nullable_fields() {
        let value = json!({ "a": null });
        let fields = Fields::of(&value, "s".to_owned(), &["a"]).unwrap();
        assert_eq!(fields.nullable_string("a").unwrap(), None);
        assert_eq!(
            fields.string("a").unwrap_err().to_string(),
            "s.a: expected a string, found null"
        );
    }

    #[test]
    fn array_items_are_named_by_index() {
        let value = json!({ "list": ["a", 2] });
        let fields = Fields::of(&value, "s".to_owned(), &["list"]).unwrap();
        assert_eq!(
            fields.strings("list").unwrap_err().path(),
            Some("s.list[1]")
        );
    }

    #[test]
    fn absent_sections_read_as_empty() {
        let fields = Fields::absent("ledger".to_owned());
        assert_eq!(fields.string("directory").unwrap(), None);
        assert_eq!(
            fields.required("directory").unwrap_err(),
            ConfigError::Missing {
                path: "ledger.directory".to_owned()
            }
        );
    }
}
