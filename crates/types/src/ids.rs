//! Entity ids: nodes, members and users are named by the lowercase hex of a SHA-256
//! (spec/ccf-internals.md §7). They are stored and compared as that 64-character text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an entity id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntityIdError {
    /// Entity ids are 64 lowercase hex characters.
    #[error("{0:?} is not 64 lowercase hex characters")]
    NotLowerHex64(String),
}

fn check_lower_hex_64(text: &str) -> Result<(), EntityIdError> {
    let ok = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(EntityIdError::NotLowerHex64(text.to_owned()))
    }
}

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Builds the id from the 32 bytes it is the hex of.
            pub fn from_digest(digest: &[u8; 32]) -> $name {
                let mut text = String::with_capacity(64);
                for byte in digest {
                    text.push_str(&format!("{byte:02x}"));
                }
                $name(text)
            }

            /// The 64-character hex text, as stored in CCF's tables.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = EntityIdError;
            fn try_from(text: String) -> Result<$name, EntityIdError> {
                check_lower_hex_64(&text)?;
                Ok($name(text))
            }
        }

        impl std::str::FromStr for $name {
            type Err = EntityIdError;
            fn from_str(text: &str) -> Result<$name, EntityIdError> {
                $name::try_from(text.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

entity_id!(
    /// A node: hex SHA-256 of the node's public key (SubjectPublicKeyInfo DER).
    NodeId
);
entity_id!(
    /// A member: hex SHA-256 of the member's certificate DER.
    MemberId
);
entity_id!(
    /// A user: hex SHA-256 of the user's certificate DER.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_are_lowercase_hex_of_the_digest() {
        let id = NodeId::from_digest(&[0xab; 32]);
        assert_eq!(id.as_str(), "ab".repeat(32));
        assert_eq!(id.as_str().parse::<NodeId>(), Ok(id));
    }

    #[test]
    fn entity_ids_refuse_other_text() {
        assert!("AB".repeat(32).parse::<MemberId>().is_err());
        assert!("ab".repeat(31).parse::<UserId>().is_err());
    }
}
