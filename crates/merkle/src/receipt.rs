//! CCF's JSON receipts, v1 (`/receipt` endpoint, snapshot evidence) and v2 (`ccf::ReceiptPtr`
//! to_json), spec/ccf-internals.md §4.1–4.3.
//!
//! JSON shape (keys sorted, as nlohmann writes them):
//! `cert`, [`is_signature_transaction`], `leaf` | `leaf_components`, `node_id`, `proof`,
//! [`service_endorsements`], `signature`. v1 omits `service_endorsements` when it is empty and
//! has no `is_signature_transaction`; v2 always writes both. Both shapes parse.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::{Certificate, Sha256Hash, sha256};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MerkleError;
use crate::leaf::leaf_from_digests;
use crate::path::{Path, Side, fold};

/// A JSON receipt: a Merkle proof from a transaction's leaf to a root signed by a node.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ReceiptWire")]
pub struct Receipt {
    /// PEM of the signing node's service-endorsed certificate.
    pub cert: String,
    /// v2 only: whether the receipt is for a signature transaction.
    pub is_signature_transaction: Option<bool>,
    /// What the proof starts from.
    pub contents: ReceiptContents,
    /// NodeId (hex) of the signing node.
    pub node_id: String,
    /// Siblings from the leaf up to the root.
    pub proof: Vec<ProofElement>,
    /// PEM certificates linking `cert` to the current service certificate (each issued by the
    /// next), present when the node was endorsed by an earlier service identity.
    pub service_endorsements: Vec<String>,
    /// Base64 of the node's DER ECDSA signature over the root (prehashed, §3.5).
    pub signature: String,
}

/// The start of a receipt's proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptContents {
    /// `"leaf"`: the leaf hash itself — the root for a signature transaction (empty proof), or
    /// the write-set digest for pre-2.0 entries.
    Leaf(Sha256Hash),
    /// `"leaf_components"`: what the leaf is computed from (§3.1).
    Components(LeafComponents),
}

/// The parts of a transaction's leaf (§3.1); keys sorted as CCF writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafComponents {
    /// The application's claims digest; absent only for legacy entries.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_hash_option"
    )]
    pub claims_digest: Option<Sha256Hash>,
    /// `ce:{view}.{seqno}:{hex nonce}`; empty for legacy entries without commit evidence.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_evidence: String,
    /// SHA-256 of the serialised ledger entry.
    #[serde(with = "hex_hash")]
    pub write_set_digest: Sha256Hash,
}

/// One proof step; serialises as `{"left": hex}` or `{"right": hex}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofElement {
    /// Sibling on the left: `acc = SHA256(sibling ‖ acc)`.
    Left(#[serde(with = "hex_hash")] Sha256Hash),
    /// Sibling on the right: `acc = SHA256(acc ‖ sibling)`.
    Right(#[serde(with = "hex_hash")] Sha256Hash),
}

/// Who signed the root a receipt leads to: the fields of the signature transaction's
/// `PrimarySignature` (§3.5) that a receipt carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSignature {
    /// NodeId (hex) of the signing node.
    pub node_id: String,
    /// PEM of the node's service-endorsed certificate.
    pub cert: String,
    /// Base64 DER ECDSA signature over the root.
    pub signature: String,
}

impl LeafComponents {
    /// The leaf: `SHA256(wsd ‖ SHA256(ce) ‖ claims)`, or a legacy form when parts are absent:
    /// `SHA256(wsd ‖ SHA256(ce))`, `SHA256(wsd ‖ claims)`, or `wsd` itself (§3.1).
    pub fn leaf(&self) -> Sha256Hash {
        let evidence =
            (!self.commit_evidence.is_empty()).then(|| sha256(self.commit_evidence.as_bytes()));
        leaf_from_digests(
            &self.write_set_digest,
            evidence.as_ref(),
            self.claims_digest.as_ref(),
        )
    }
}

impl ReceiptContents {
    /// The leaf the proof starts from.
    pub fn leaf(&self) -> Sha256Hash {
        match self {
            ReceiptContents::Leaf(leaf) => *leaf,
            ReceiptContents::Components(components) => components.leaf(),
        }
    }
}

impl ProofElement {
    /// The side the sibling joins on.
    pub fn side(&self) -> Side {
        match self {
            ProofElement::Left(_) => Side::Left,
            ProofElement::Right(_) => Side::Right,
        }
    }

    /// The sibling hash.
    pub fn hash(&self) -> Sha256Hash {
        match self {
            ProofElement::Left(hash) | ProofElement::Right(hash) => *hash,
        }
    }
}

impl From<(Side, Sha256Hash)> for ProofElement {
    fn from((side, hash): (Side, Sha256Hash)) -> ProofElement {
        match side {
            Side::Left => ProofElement::Left(hash),
            Side::Right => ProofElement::Right(hash),
        }
    }
}

impl Receipt {
    /// A v1 receipt for the leaf of `path` (which `contents` must describe), signed as
    /// `signature` says. The node builds these for the `/receipt` endpoint.
    pub fn from_path(
        path: &Path,
        contents: ReceiptContents,
        signature: NodeSignature,
        service_endorsements: Vec<String>,
    ) -> Receipt {
        Receipt {
            cert: signature.cert,
            is_signature_transaction: None,
            contents,
            node_id: signature.node_id,
            proof: path
                .elements
                .iter()
                .copied()
                .map(ProofElement::from)
                .collect(),
            service_endorsements,
            signature: signature.signature,
        }
    }

    /// A v1 receipt for a signature transaction: the leaf is the signed root, the proof empty.
    pub fn for_signature_transaction(
        root: Sha256Hash,
        signature: NodeSignature,
        service_endorsements: Vec<String>,
    ) -> Receipt {
        Receipt {
            cert: signature.cert,
            is_signature_transaction: None,
            contents: ReceiptContents::Leaf(root),
            node_id: signature.node_id,
            proof: Vec::new(),
            service_endorsements,
            signature: signature.signature,
        }
    }

    /// Parses v1 or v2 receipt JSON.
    pub fn from_json(text: &str) -> Result<Receipt, MerkleError> {
        serde_json::from_str(text).map_err(|e| MerkleError::MalformedReceipt(e.to_string()))
    }

    /// Compact JSON with CCF's key order.
    pub fn to_json(&self) -> String {
        match serde_json::to_string(self) {
            Ok(text) => text,
            // Only string keys and plain values are written, which serde_json cannot refuse.
            Err(e) => unreachable!("receipt JSON serialisation failed: {e}"),
        }
    }

    /// The root the proof leads to. A v2 receipt that says it is for a signature transaction
    /// must carry the root as its leaf and an empty proof (§4.2).
    pub fn root(&self) -> Result<Sha256Hash, MerkleError> {
        if self.is_signature_transaction == Some(true)
            && (!self.proof.is_empty() || matches!(self.contents, ReceiptContents::Components(_)))
        {
            return Err(MerkleError::MalformedReceipt(
                "a signature transaction receipt has a leaf and no proof".into(),
            ));
        }
        Ok(fold(
            self.contents.leaf(),
            self.proof.iter().map(|e| (e.side(), e.hash())),
        ))
    }

    /// §4.3: recomputes the root, checks the node's signature over it with `cert`'s key, and
    /// checks that `cert` was issued by `service_cert`, directly or through
    /// `service_endorsements` (each certificate issued by the next). Returns the root.
    ///
    /// Certificate validity periods are not checked (no clock here): a caller that wants them
    /// compares `Certificate::validity_unix` with its own time.
    pub fn verify(&self, service_cert: &Certificate) -> Result<Sha256Hash, MerkleError> {
        let root = self.root()?;
        let node_cert = parse_cert(&self.cert, "cert")?;
        let signature = BASE64
            .decode(self.signature.trim())
            .map_err(|e| MerkleError::MalformedReceipt(format!("signature is not base64: {e}")))?;
        node_cert
            .public_key()
            .and_then(|key| key.verify_prehashed_der(&root.0, &signature))
            .map_err(|e| MerkleError::BadSignature(format!("{root}: {e}")))?;
        let mut endorsee = node_cert;
        for (at, pem) in self.service_endorsements.iter().enumerate() {
            let endorser = parse_cert(pem, "service_endorsements")?;
            check_issued_by(&endorsee, &endorser, &format!("service_endorsements[{at}]"))?;
            endorsee = endorser;
        }
        check_issued_by(&endorsee, service_cert, "the service certificate")?;
        Ok(root)
    }
}

impl Serialize for Receipt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // By hand because whether `service_endorsements` is written depends on another field:
        // v1 omits it when empty, v2 (the one with `is_signature_transaction`) always writes it.
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("cert", &self.cert)?;
        if let Some(is_signature) = self.is_signature_transaction {
            map.serialize_entry("is_signature_transaction", &is_signature)?;
        }
        match &self.contents {
            ReceiptContents::Leaf(leaf) => map.serialize_entry("leaf", &leaf.to_hex())?,
            ReceiptContents::Components(components) => {
                map.serialize_entry("leaf_components", components)?
            }
        }
        map.serialize_entry("node_id", &self.node_id)?;
        map.serialize_entry("proof", &self.proof)?;
        if !self.service_endorsements.is_empty() || self.is_signature_transaction.is_some() {
            map.serialize_entry("service_endorsements", &self.service_endorsements)?;
        }
        map.serialize_entry("signature", &self.signature)?;
        map.end()
    }
}

/// The receipt as it is on the wire, before checking that exactly one leaf form is present.
#[derive(Deserialize)]
struct ReceiptWire {
    cert: String,
    #[serde(default)]
    is_signature_transaction: Option<bool>,
    #[serde(default, with = "hex_hash_option")]
    leaf: Option<Sha256Hash>,
    #[serde(default)]
    leaf_components: Option<LeafComponents>,
    node_id: String,
    #[serde(default)]
    proof: Vec<ProofElement>,
    #[serde(default)]
    service_endorsements: Vec<String>,
    signature: String,
}

impl TryFrom<ReceiptWire> for Receipt {
    type Error = WireError;

    fn try_from(wire: ReceiptWire) -> Result<Receipt, WireError> {
        let contents = match (wire.leaf, wire.leaf_components) {
            (Some(leaf), None) => ReceiptContents::Leaf(leaf),
            (None, Some(components)) => ReceiptContents::Components(components),
            (Some(_), Some(_)) => return Err(WireError("both leaf and leaf_components")),
            (None, None) => return Err(WireError("neither leaf nor leaf_components")),
        };
        Ok(Receipt {
            cert: wire.cert,
            is_signature_transaction: wire.is_signature_transaction,
            contents,
            node_id: wire.node_id,
            proof: wire.proof,
            service_endorsements: wire.service_endorsements,
            signature: wire.signature,
        })
    }
}

/// Why receipt JSON has the right syntax but not the right shape.
#[derive(Debug)]
struct WireError(&'static str);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn parse_cert(pem: &str, field: &str) -> Result<Certificate, MerkleError> {
    Certificate::from_pem(pem).map_err(|e| MerkleError::MalformedReceipt(format!("{field}: {e}")))
}

fn check_issued_by(
    endorsee: &Certificate,
    endorser: &Certificate,
    name: &str,
) -> Result<(), MerkleError> {
    endorser
        .public_key()
        .and_then(|key| endorsee.verify_issued_by(&key))
        .map_err(|e| MerkleError::UntrustedCertificate(format!("not issued by {name}: {e}")))
}

/// Hashes as 64 hex characters (CCF writes lowercase; either case is read).
mod hex_hash {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        hash: &Sha256Hash,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hash.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Sha256Hash, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Sha256Hash::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not 64 hex characters")))
    }
}

mod hex_hash_option {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        hash: &Option<Sha256Hash>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match hash {
            Some(hash) => serializer.serialize_some(&hash.to_hex()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Sha256Hash>, D::Error> {
        #[derive(Deserialize)]
        struct Hex(#[serde(with = "super::hex_hash")] Sha256Hash);
        Ok(Option::<Hex>::deserialize(deserializer)?.map(|Hex(hash)| hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MerkleTree;
    use cloister_crypto::{
        CertificateSpec, Curve, EcKeyPair, SeededEntropy, issue_endorsed, issue_self_signed,
        sha256_concat,
    };
    use proptest::prelude::*;

    fn components(seqno: u64) -> LeafComponents {
        LeafComponents {
            claims_digest: Some(Sha256Hash([0; 32])),
            commit_evidence: format!("ce:2.{seqno}:{}", sha256(&seqno.to_le_bytes()).to_hex()),
            write_set_digest: sha256(format!("entry {seqno}").as_bytes()),
        }
    }

    /// A tree of `n` leaves built from `components(i)`, the way CCF's history builds them.
    fn history(n: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        (0..n).for_each(|i| tree.append(components(i).leaf()));
        tree
    }

    fn unsigned(path: &Path) -> Receipt {
        let signature = NodeSignature {
            node_id: "00".repeat(32),
            cert: String::new(),
            signature: String::new(),
        };
        Receipt::from_path(
            path,
            ReceiptContents::Components(components(path.leaf_index)),
            signature,
            vec![],
        )
    }

    struct Service {
        key: EcKeyPair,
        cert: Certificate,
    }

    fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
        CertificateSpec {
            subject_cn: cn.into(),
            sans: vec![],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_800_000_000,
            is_ca,
        }
    }

    fn service(entropy: &mut SeededEntropy) -> Service {
        let key = EcKeyPair::generate(Curve::P384, entropy).unwrap();
        let cert = issue_self_signed(&key, &spec("CCF Network", true)).unwrap();
        Service { key, cert }
    }

    /// A node key endorsed by `service`, and its signature over the root of `tree`.
    fn signed_receipt(
        tree: &mut MerkleTree,
        index: u64,
        service: &Service,
        entropy: &mut SeededEntropy,
    ) -> Receipt {
        let node_key = EcKeyPair::generate(Curve::P384, entropy).unwrap();
        let node_cert = issue_endorsed(
            &node_key.public_key(),
            &spec("CCF Node", false),
            &service.key,
            &service.cert,
        )
        .unwrap();
        let root = tree.root().unwrap();
        let signature = NodeSignature {
            node_id: node_key.public_key().node_id().as_str().to_owned(),
            cert: node_cert.to_pem(),
            signature: BASE64.encode(node_key.sign_prehashed_der(&root.0).unwrap()),
        };
        let contents = ReceiptContents::Components(components(index));
        Receipt::from_path(&tree.path(index).unwrap(), contents, signature, vec![])
    }

    #[test]
    fn leaf_components_hash_as_ccf_and_its_legacy_forms() {
        let c = components(7);
        let ce = sha256(c.commit_evidence.as_bytes());
        let claims = c.claims_digest.unwrap();
        let wsd = c.write_set_digest;
        assert_eq!(c.leaf(), sha256_concat(&[&wsd.0, &ce.0, &claims.0]));
        let no_claims = LeafComponents {
            claims_digest: None,
            ..c.clone()
        };
        assert_eq!(no_claims.leaf(), sha256_concat(&[&wsd.0, &ce.0]));
        let no_evidence = LeafComponents {
            commit_evidence: String::new(),
            ..c.clone()
        };
        assert_eq!(no_evidence.leaf(), sha256_concat(&[&wsd.0, &claims.0]));
        let neither = LeafComponents {
            claims_digest: None,
            commit_evidence: String::new(),
            ..c
        };
        assert_eq!(neither.leaf(), wsd);
    }

    #[test]
    fn receipt_root_equals_the_tree_root_for_every_leaf() {
        let mut tree = history(37);
        let root = tree.root().unwrap();
        for i in 0..37 {
            assert_eq!(unsigned(&tree.path(i).unwrap()).root().unwrap(), root);
        }
    }

    #[test]
    fn v1_json_omits_empty_endorsements_and_v2_always_writes_them() {
        let mut tree = history(5);
        let mut receipt = unsigned(&tree.path(2).unwrap());
        let v1 = receipt.to_json();
        assert!(!v1.contains("service_endorsements") && !v1.contains("is_signature_transaction"));
        assert!(
            v1.starts_with(r#"{"cert":"","leaf_components":{"claims_digest":"0000"#),
            "{v1}"
        );
        assert!(v1.contains(r#""proof":[{"right":""#));
        receipt.is_signature_transaction = Some(false);
        let v2 = receipt.to_json();
        assert!(v2.contains(r#""is_signature_transaction":false,"leaf_components""#));
        assert!(v2.contains(r#""service_endorsements":[],"signature""#));
        assert_eq!(
            Receipt::from_json(&v1).unwrap().is_signature_transaction,
            None
        );
        assert_eq!(Receipt::from_json(&v2).unwrap(), receipt);
    }

    #[test]
    fn signature_transaction_receipts_carry_the_root_as_leaf() {
        let mut tree = history(9);
        let root = tree.root().unwrap();
        let signature = NodeSignature {
            node_id: "ab".repeat(32),
            cert: "c".into(),
            signature: "s".into(),
        };
        let receipt = Receipt::for_signature_transaction(root, signature, vec![]);
        let json = receipt.to_json();
        assert_eq!(
            json,
            format!(
                r#"{{"cert":"c","leaf":"{root}","node_id":"{}","proof":[],"signature":"s"}}"#,
                "ab".repeat(32)
            )
        );
        assert_eq!(Receipt::from_json(&json).unwrap().root().unwrap(), root);
        let mut claimed = receipt.clone();
        claimed.is_signature_transaction = Some(true);
        assert_eq!(claimed.root().unwrap(), root);
        claimed.proof.push(ProofElement::Left(root));
        assert!(matches!(
            claimed.root(),
            Err(MerkleError::MalformedReceipt(_))
        ));
    }

    #[test]
    fn malformed_receipt_json_is_an_error() {
        let good = unsigned(&history(3).path(1).unwrap()).to_json();
        let cases = [
            good.replace("leaf_components", "leaf_componentz"),
            good.replace(r#""right""#, r#""up""#),
            good.replace(r#""claims_digest":"00"#, r#""claims_digest":"zz"#),
            good.replace(r#""node_id""#, r#""node""#),
            good[..good.len() - 1].to_owned(),
            r#"{"cert":"","leaf":"00","node_id":"","proof":[],"signature":""}"#.to_owned(),
        ];
        for case in cases {
            assert!(
                matches!(
                    Receipt::from_json(&case),
                    Err(MerkleError::MalformedReceipt(_))
                ),
                "{case}"
            );
        }
        let both = good.replacen(
            r#""leaf_components""#,
            &format!(r#""leaf":"{}","leaf_components""#, "00".repeat(32)),
            1,
        );
        assert!(Receipt::from_json(&both).is_err());
    }

    #[test]
    fn a_receipt_signed_by_an_endorsed_node_verifies() {
        let mut entropy = SeededEntropy::from_seed(1);
        let service = service(&mut entropy);
        let mut tree = history(23);
        let receipt = signed_receipt(&mut tree, 11, &service, &mut entropy);
        assert_eq!(receipt.verify(&service.cert).unwrap(), tree.root().unwrap());
        let reparsed = Receipt::from_json(&receipt.to_json()).unwrap();
        assert_eq!(
            reparsed.verify(&service.cert).unwrap(),
            tree.root().unwrap()
        );
    }

    #[test]
    fn verify_refuses_altered_proofs_signatures_and_other_services() {
        let mut entropy = SeededEntropy::from_seed(2);
        let service_a = service(&mut entropy);
        let service_b = service(&mut entropy);
        let mut tree = history(23);
        let receipt = signed_receipt(&mut tree, 5, &service_a, &mut entropy);

        assert!(matches!(
            receipt.verify(&service_b.cert),
            Err(MerkleError::UntrustedCertificate(_))
        ));

        let mut altered = receipt.clone();
        altered.proof[1] = match altered.proof[1] {
            ProofElement::Left(hash) => ProofElement::Right(hash),
            ProofElement::Right(hash) => ProofElement::Left(hash),
        };
        assert!(matches!(
            altered.verify(&service_a.cert),
            Err(MerkleError::BadSignature(_))
        ));

        let mut forged = receipt.clone();
        let mut sig = BASE64.decode(&forged.signature).unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 1;
        forged.signature = BASE64.encode(sig);
        assert!(matches!(
            forged.verify(&service_a.cert),
            Err(MerkleError::BadSignature(_))
        ));

        let mut garbled = receipt.clone();
        garbled.signature = "not base64!".into();
        assert!(matches!(
            garbled.verify(&service_a.cert),
            Err(MerkleError::MalformedReceipt(_))
        ));
        let mut no_cert = receipt;
        no_cert.cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into();
        assert!(matches!(
            no_cert.verify(&service_a.cert),
            Err(MerkleError::MalformedReceipt(_))
        ));
    }

    #[test]
    fn a_node_of_a_previous_service_identity_verifies_through_the_endorsement() {
        // Disaster recovery: the new service key endorses the old service key (§4.1).
        let mut entropy = SeededEntropy::from_seed(3);
        let old = service(&mut entropy);
        let new = service(&mut entropy);
        let old_endorsed = issue_endorsed(
            &old.key.public_key(),
            &spec("CCF Network", true),
            &new.key,
            &new.cert,
        )
        .unwrap();
        let mut tree = history(8);
        let mut receipt = signed_receipt(&mut tree, 3, &old, &mut entropy);
        assert!(matches!(
            receipt.verify(&new.cert),
            Err(MerkleError::UntrustedCertificate(_))
        ));
        receipt.service_endorsements = vec![old_endorsed.to_pem()];
        assert_eq!(receipt.verify(&new.cert).unwrap(), tree.root().unwrap());
        assert!(receipt.to_json().contains("service_endorsements"));
        assert!(matches!(
            receipt.verify(&old.cert),
            Err(MerkleError::UntrustedCertificate(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_altered_proof_element_changes_the_root(
            n in 2u64..300, index in any::<u64>(), which in any::<usize>(), bit in 0usize..256, flip_side in any::<bool>()
        ) {
            let mut tree = history(n);
            let index = index % n;
            let receipt = unsigned(&tree.path(index).unwrap());
            let root = tree.root().unwrap();
            prop_assert_eq!(receipt.root().unwrap(), root);
            let mut altered = receipt.clone();
            let at = which % altered.proof.len();
            let element = altered.proof[at];
            altered.proof[at] = if flip_side {
                match element {
                    ProofElement::Left(h) => ProofElement::Right(h),
                    ProofElement::Right(h) => ProofElement::Left(h),
                }
            } else {
                let mut hash = element.hash();
                hash.0[bit / 8] ^= 1 << (bit % 8);
                (element.side(), hash).into()
            };
            prop_assert_ne!(altered.root().unwrap(), root);
        }

        #[test]
        fn receipt_json_round_trips(n in 1u64..200, index in any::<u64>(), v2 in any::<bool>(), endorsements in 0usize..3) {
            let mut tree = history(n);
            let mut receipt = unsigned(&tree.path(index % n).unwrap());
            receipt.is_signature_transaction = v2.then_some(false);
            receipt.service_endorsements = (0..endorsements).map(|i| format!("pem {i}\n")).collect();
            let json = receipt.to_json();
            let back = Receipt::from_json(&json).unwrap();
            prop_assert_eq!(&back, &receipt);
            prop_assert_eq!(back.to_json(), json);
        }
    }
}
