//! What a node keeps in its working directory so that it can restart after a crash or a stop
//! with the same identity: `node_state.json` (mode 0600) holds the node key, its endorsed and
//! self-signed certificates, the service identity and the ledger secrets; `vote.json` its last
//! vote (written by the driver). CCF seals such secrets with the TEE; there is no TEE here, so
//! the file is only as safe as the directory (docs/node.md).

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cloister_crypto::{Certificate, EcKeyPair};
use cloister_kv::LedgerSecrets;
use cloister_node::core::JoinSecrets;
use cloister_node::{CoseSignaturesConfig, NodeIdentity, ServiceIdentity};
use cloister_types::SeqNo;
use serde::{Deserialize, Serialize};

/// The state file's name in the node's directory.
pub const STATE_FILE: &str = "node_state.json";
/// The vote file's name in the node's directory.
pub const VOTE_FILE: &str = "vote.json";

/// The secrets a node restarts with.
#[derive(Serialize, Deserialize)]
pub struct NodeState {
    pub node_id: String,
    pub node_key_pem: String,
    pub endorsed_cert_pem: String,
    pub self_signed_cert_pem: String,
    pub service_cert_pem: String,
    pub service_key_pem: String,
    /// (first seqno, hex of the 32-byte secret), in seqno order.
    pub ledger_secrets: Vec<(u64, String)>,
    /// (issuer, subject) of the COSE root signatures, should this node become primary.
    pub cose_signatures: (String, String),
}

impl NodeState {
    pub fn new(
        node: &NodeIdentity,
        service: &ServiceIdentity,
        ledger_secrets: &[(u64, [u8; 32])],
        cose: &CoseSignaturesConfig,
    ) -> NodeState {
        NodeState {
            node_id: node.id.to_string(),
            node_key_pem: node.key.to_pem(),
            endorsed_cert_pem: node.endorsed_cert.to_pem(),
            self_signed_cert_pem: node.self_signed_cert.to_pem(),
            service_cert_pem: service.cert_pem(),
            service_key_pem: service.key.to_pem(),
            ledger_secrets: ledger_secrets
                .iter()
                .map(|(seqno, raw)| (*seqno, hex::encode(raw)))
                .collect(),
            cose_signatures: (cose.issuer.clone(), cose.subject.clone()),
        }
    }

    /// The COSE signature claims kept with the state.
    pub fn cose(&self) -> CoseSignaturesConfig {
        CoseSignaturesConfig {
            issuer: self.cose_signatures.0.clone(),
            subject: self.cose_signatures.1.clone(),
        }
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Writes the file durably (0600, synced, renamed into place).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let path = NodeState::path(dir);
        let temporary = path.with_extension("tmp");
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The state in `dir`, if the node kept one there.
    pub fn load(dir: &Path) -> anyhow::Result<Option<NodeState>> {
        let path = NodeState::path(dir);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
        };
        let state = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a node state file", path.display()))?;
        Ok(Some(state))
    }

    /// The identities and secrets, checked: the key must be the certificates' key.
    pub fn secrets(&self) -> anyhow::Result<JoinSecrets> {
        let key = EcKeyPair::from_pem(&self.node_key_pem).context("node_key_pem")?;
        let endorsed_cert =
            Certificate::from_pem(&self.endorsed_cert_pem).context("endorsed_cert_pem")?;
        let self_signed_cert =
            Certificate::from_pem(&self.self_signed_cert_pem).context("self_signed_cert_pem")?;
        let id = key.public_key().node_id();
        for cert in [&endorsed_cert, &self_signed_cert] {
            if cert.spki_der()? != key.public_key().spki_der() {
                bail!("{STATE_FILE}: a certificate is not for the node key");
            }
        }
        if id.as_str() != self.node_id {
            bail!("{STATE_FILE}: node_id is not the node key's id");
        }
        let service = ServiceIdentity {
            key: EcKeyPair::from_pem(&self.service_key_pem).context("service_key_pem")?,
            cert: Certificate::from_pem(&self.service_cert_pem).context("service_cert_pem")?,
        };
        let mut raw_secrets = Vec::with_capacity(self.ledger_secrets.len());
        for (seqno, raw) in &self.ledger_secrets {
            let raw: [u8; 32] = hex::decode(raw)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .with_context(|| format!("{STATE_FILE}: ledger secret {seqno} is not 32 bytes"))?;
            raw_secrets.push((*seqno, raw));
        }
        let ledger_secrets = ledger_secrets(&raw_secrets).context(STATE_FILE)?;
        Ok(JoinSecrets {
            node: NodeIdentity {
                id,
                key,
                endorsed_cert,
                self_signed_cert,
            },
            service,
            ledger_secrets,
        })
    }
}

/// The service's ledger secrets from (first seqno, secret) pairs in seqno order. The first one
/// is in force from seqno 1, whatever start it names (it is the service's first secret); each
/// later one from its own start.
pub fn ledger_secrets(list: &[(u64, [u8; 32])]) -> anyhow::Result<LedgerSecrets> {
    let Some(((_, first), rest)) = list.split_first() else {
        bail!("no ledger secret");
    };
    let mut secrets = LedgerSecrets::with_first(*first);
    for (seqno, raw) in rest {
        secrets.add(SeqNo(*seqno), *raw)?;
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use cloister_crypto::SeededEntropy;

    use super::*;

    #[test]
    fn state_round_trips_with_mode_0600_and_a_foreign_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let mut entropy = SeededEntropy::from_seed(3);
        let service = ServiceIdentity::generate(&mut entropy, 0, 2_000_000_000).unwrap();
        let node = NodeIdentity::generate(
            &mut entropy,
            &service,
            vec!["127.0.0.1".into()],
            0,
            2_000_000_000,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(NodeState::load(dir.path()).unwrap().is_none());
        let cose = CoseSignaturesConfig::default();
        NodeState::new(&node, &service, &[(1, [7; 32]), (40, [8; 32])], &cose)
            .save(dir.path())
            .unwrap();
        let mode = fs::metadata(NodeState::path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let secrets = NodeState::load(dir.path())
            .unwrap()
            .unwrap()
            .secrets()
            .unwrap();
        assert_eq!(secrets.node.id, node.id);
        assert_eq!(secrets.node.endorsed_cert, node.endorsed_cert);
        assert_eq!(secrets.service.cert, service.cert);
        assert_eq!(
            secrets.ledger_secrets.starts().collect::<Vec<_>>(),
            [SeqNo(1), SeqNo(40)]
        );
        assert_eq!(
            secrets.ledger_secrets.secret_for(SeqNo(41)).unwrap().raw(),
            &[8; 32]
        );

        let mut state = NodeState::new(&node, &service, &[(1, [7; 32])], &cose);
        state.node_key_pem = service.key.to_pem();
        assert!(state.secrets().is_err());
    }
}
