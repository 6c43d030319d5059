//! The public-key half of signature checks, split off so a driver can run it on other cores
//! (each P-384 verification costs ~0.4 ms, far more than hashing the entries it covers). The
//! sequential half — is the signed root the tree's root, is the signer known and trusted — stays
//! in order in the verifier.

use cloister_crypto::cose::Sign1;
use cloister_crypto::{EcPublicKey, Sha256Hash};
use cloister_types::TxId;

use crate::verify::failure::VerifyFailure;

/// One signature still to verify.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// The signature transaction it belongs to.
    pub txid: TxId,
    kind: CheckKind,
}

#[derive(Debug, Clone)]
enum CheckKind {
    /// The node's DER ECDSA signature over the root, the root used as the digest.
    Node {
        node: String,
        key: EcPublicKey,
        root: Sha256Hash,
        signature: Vec<u8>,
    },
    /// The service's COSE_Sign1 over the root (detached payload).
    Cose {
        key: EcPublicKey,
        root: Sha256Hash,
        sign1: Box<Sign1>,
    },
}

impl SignatureCheck {
    pub(crate) fn node(
        txid: TxId,
        node: String,
        key: EcPublicKey,
        root: Sha256Hash,
        signature: Vec<u8>,
    ) -> SignatureCheck {
        SignatureCheck {
            txid,
            kind: CheckKind::Node {
                node,
                key,
                root,
                signature,
            },
        }
    }

    pub(crate) fn cose(
        txid: TxId,
        key: EcPublicKey,
        root: Sha256Hash,
        sign1: Sign1,
    ) -> SignatureCheck {
        SignatureCheck {
            txid,
            kind: CheckKind::Cose {
                key,
                root,
                sign1: Box::new(sign1),
            },
        }
    }

    /// Runs the public-key operation.
    pub fn run(&self) -> Result<(), VerifyFailure> {
        match &self.kind {
            CheckKind::Node {
                node,
                key,
                root,
                signature,
            } => key
                .verify_prehashed_der(&root.0, signature)
                .map_err(|_| VerifyFailure::BadNodeSignature { node: node.clone() }),
            CheckKind::Cose { key, root, sign1 } => sign1
                .verify(key, Some(&root.0))
                .map_err(|_| VerifyFailure::BadCoseSignature),
        }
    }
}
