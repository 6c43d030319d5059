//! `node_certificate`: the node's X.509 identity (spec/ccf-api.md §7).

use core::net::IpAddr;

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum, index};

config_enum! {
    /// `node_certificate.curve_id`: the curve of the node identity key.
    pub enum CurveId {
        Secp384R1 = "Secp384R1",
        Secp256R1 = "Secp256R1",
    }
}

/// A subject alternative name, written `iPAddress:<ip>` or `dNSName:<name>` in the file (CCF's
/// `sans_from_string_list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectAltName {
    IpAddress(IpAddr),
    DnsName(String),
}

impl SubjectAltName {
    /// Reads CCF's `iPAddress:…` / `dNSName:…` notation.
    pub fn parse(text: &str) -> Result<SubjectAltName, String> {
        if let Some(ip) = text.strip_prefix("iPAddress:") {
            return ip
                .parse()
                .map(SubjectAltName::IpAddress)
                .map_err(|_| format!("\"{ip}\" is not an IP address"));
        }
        match text.strip_prefix("dNSName:") {
            Some("") => Err("a dNSName may not be empty".to_owned()),
            Some(name) => Ok(SubjectAltName::DnsName(name.to_owned())),
            None => Err(format!(
                "\"{text}\" is not a subject alternative name (\"iPAddress:…\" or \"dNSName:…\")"
            )),
        }
    }
}

/// The `node_certificate` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCertificate {
    /// A distinguished name, `"CN=CCF Node"` by default.
    pub subject_name: String,
    /// Empty means: the published address of the main (first) RPC interface.
    pub subject_alt_names: Vec<SubjectAltName>,
    pub curve_id: CurveId,
    pub initial_validity_days: u64,
}

impl Default for NodeCertificate {
    fn default() -> NodeCertificate {
        NodeCertificate {
            subject_name: "CN=CCF Node".to_owned(),
            subject_alt_names: Vec::new(),
            curve_id: CurveId::Secp384R1,
            initial_validity_days: 1,
        }
    }
}

impl Section for NodeCertificate {
    const FIELDS: &'static [&'static str] = &[
        "subject_name",
        "subject_alt_names",
        "curve_id",
        "initial_validity_days",
    ];

    fn read(fields: &Fields<'_>) -> Result<NodeCertificate, ConfigError> {
        let default = NodeCertificate::default();
        let names = fields.strings("subject_alt_names")?.unwrap_or_default();
        let path = fields.path_of("subject_alt_names");
        let subject_alt_names = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                SubjectAltName::parse(name).map_err(|reason| ConfigError::Invalid {
                    path: index(&path, i),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NodeCertificate {
            subject_name: fields
                .string("subject_name")?
                .unwrap_or(default.subject_name),
            subject_alt_names,
            curve_id: fields
                .choice("curve_id", CurveId::CHOICES)?
                .unwrap_or(default.curve_id),
            initial_validity_days: fields
                .integer("initial_validity_days", 1)?
                .unwrap_or(default.initial_validity_days),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_alt_names_use_ccf_notation() {
        assert_eq!(
            SubjectAltName::parse("iPAddress:127.0.0.1"),
            Ok(SubjectAltName::IpAddress(IpAddr::from([127, 0, 0, 1])))
        );
        assert!(matches!(
            SubjectAltName::parse("iPAddress:::1"),
            Ok(SubjectAltName::IpAddress(IpAddr::V6(_)))
        ));
        assert_eq!(
            SubjectAltName::parse("dNSName:ccf.dummy.com"),
            Ok(SubjectAltName::DnsName("ccf.dummy.com".to_owned()))
        );
    }

    #[test]
    fn malformed_subject_alt_names_are_refused() {
        for text in [
            "127.0.0.1",
            "iPAddress:ccf.dummy.com",
            "dNSName:",
            "DNS:x",
            "",
        ] {
            assert!(SubjectAltName::parse(text).is_err(), "{text:?}");
        }
    }
}
