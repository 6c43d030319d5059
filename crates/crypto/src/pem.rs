//! PEM (RFC 7468) blocks: CCF stores certificates and keys as PEM text in its tables and
//! writes them to `*_cert.pem` / `*_privk.pem` files.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::CryptoError;

/// Characters per base64 line when writing, as OpenSSL and RFC 7468 do.
const PEM_LINE_CHARS: usize = 64;

/// One `-----BEGIN label----- … -----END label-----` block, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE`, `EC PRIVATE KEY`.
    pub label: String,
    /// The decoded DER bytes.
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored (OpenSSL does the same,
/// and CCF ledgers before 6.x stored PEM with a trailing NUL: spec/ccf-internals.md §2.6).
pub fn parse_pem_blocks(text: &str) -> Result<Vec<PemBlock>, CryptoError> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim_matches(|c: char| c == '\0' || c.is_ascii_whitespace());
        match open.take() {
            None => {
                if let Some(label) = boundary_label(line, "BEGIN") {
                    open = Some((label.to_owned(), String::new()));
                }
            }
            Some((label, mut body)) => {
                if let Some(end) = boundary_label(line, "END") {
                    if end != label {
                        return Err(malformed(format!("BEGIN {label} closed by END {end}")));
                    }
                    blocks.push(PemBlock {
                        der: decode_body(&label, &body)?,
                        label,
                    });
                } else if boundary_label(line, "BEGIN").is_some() {
                    return Err(malformed(format!("BEGIN inside the {label} block")));
                } else {
                    body.push_str(line);
                    open = Some((label, body));
                }
            }
        }
    }
    match open {
        Some((label, _)) => Err(malformed(format!("{label} block has no END line"))),
        None => Ok(blocks),
    }
}

/// The first block whose label is one of `labels`, skipping any other blocks (for example the
/// `EC PARAMETERS` block CCF writes ahead of `EC PRIVATE KEY`).
pub fn first_pem_block(text: &str, labels: &[&str]) -> Result<PemBlock, CryptoError> {
    parse_pem_blocks(text)?
        .into_iter()
        .find(|block| labels.contains(&block.label.as_str()))
        .ok_or_else(|| CryptoError::MissingPemBlock(labels.join(" or ")))
}

/// PEM text for `der`: 64-character lines, each line (the END line too) ending in `\n`.
pub fn encode_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(PEM_LINE_CHARS) {
        // base64 output is ASCII, so every chunk boundary is a char boundary.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn boundary_label<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    let rest = line
        .strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?;
    rest.strip_suffix("-----")
}

fn decode_body(label: &str, body: &str) -> Result<Vec<u8>, CryptoError> {
    if body.contains(':') {
        // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) mean an encrypted legacy key.
        return Err(malformed(format!(
            "{label} block has headers (encrypted PEM is not supported)"
        )));
    }
    STANDARD
        .decode(body)
        .map_err(|e| malformed(format!("{label} body is not base64: {e}")))
}

fn malformed(why: String) -> CryptoError {
    CryptoError::MalformedPem(why)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_ccf_ec_parameters_then_private_key() {
        let text = "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----\n";
        let blocks = parse_pem_blocks(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "EC PARAMETERS");
        assert_eq!(blocks[0].der, hex::decode("06052b81040022").unwrap());
        let key = first_pem_block(text, &["PRIVATE KEY", "EC PRIVATE KEY"]).unwrap();
        assert_eq!(key.der, vec![0, 1, 2]);
    }

    #[test]
    fn tolerates_trailing_nul_and_crlf() {
        let text = "-----BEGIN CERTIFICATE-----\r\nAAEC\r\n-----END CERTIFICATE-----\0";
        assert_eq!(
            first_pem_block(text, &["CERTIFICATE"]).unwrap().der,
            vec![0, 1, 2]
        );
    }

    #[test]
    fn refuses_broken_blocks() {
        let unterminated = "-----BEGIN CERTIFICATE-----\nAAEC\n";
        assert!(matches!(
            parse_pem_blocks(unterminated),
            Err(CryptoError::MalformedPem(_))
        ));
        let mismatched = "-----BEGIN A-----\nAAEC\n-----END B-----\n";
        assert!(matches!(
            parse_pem_blocks(mismatched),
            Err(CryptoError::MalformedPem(_))
        ));
        let not_base64 = "-----BEGIN A-----\nA*EC\n-----END A-----\n";
        assert!(matches!(
            parse_pem_blocks(not_base64),
            Err(CryptoError::MalformedPem(_))
        ));
        assert_eq!(
            first_pem_block("no pem here", &["CERTIFICATE"]),
            Err(CryptoError::MissingPemBlock("CERTIFICATE".into()))
        );
    }

    #[test]
    fn encodes_64_character_lines() {
        let pem = encode_pem("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        assert!(pem.ends_with("-----\n"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn encode_then_parse_round_trips(der in prop::collection::vec(any::<u8>(), 0..400)) {
            let blocks = parse_pem_blocks(&encode_pem("PUBLIC KEY", &der)).unwrap();
            prop_assert_eq!(blocks, vec![PemBlock { label: "PUBLIC KEY".into(), der }]);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = parse_pem_blocks(&text);
        }
    }
}
