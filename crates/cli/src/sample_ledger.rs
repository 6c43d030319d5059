//! A sample service ledger written by Cloister's own node (`NodeCore`, sans-IO) and host-side
//! chunk writer: genesis, application transactions over public and private maps, signature
//! transactions on a cadence, chunk files on disk. Tests check it with CCF's tools; benchmarks
//! time the verifier on it; `cloister ledger sample` writes one for people to look at.

use std::path::Path;

use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, SeededEntropy, issue_self_signed,
};
use cloister_host::LedgerDirWriter;
use cloister_node::core::{Frontends, Input, NodeCore, NodeEnv, NodeSecrets, NodeSettings, Output};
use cloister_node::tables::{SERVICE_INFO, SINGLETON_KEY};
use cloister_node::{GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity};
use cloister_types::{SeqNo, TxId};
use serde_json::{Value, json};

/// Public application map the sample writes.
pub const PUBLIC_MAP: &str = "public:records";
/// Private (encrypted) application map the sample writes.
pub const PRIVATE_MAP: &str = "records";

/// What to write.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    /// Application transactions (genesis, signatures and the opening are extra).
    pub transactions: u64,
    pub sig_tx_interval: u64,
    pub chunk_threshold_bytes: u64,
    pub value_bytes: usize,
    pub seed: u64,
    /// Written to the private map in one transaction: it must never appear in any file.
    pub private_canary: Option<Vec<u8>>,
    /// Written to the public map in one transaction: it must appear.
    pub public_canary: Option<Vec<u8>>,
    /// Keep every entry in memory (for receipts); off for large ledgers.
    pub keep_entries: bool,
}

impl Default for SampleSpec {
    fn default() -> SampleSpec {
        SampleSpec {
            transactions: 1_000,
            sig_tx_interval: 50,
            chunk_threshold_bytes: 64 * 1024,
            value_bytes: 100,
            seed: 1,
            private_canary: None,
            public_canary: None,
            keep_entries: false,
        }
    }
}

/// One entry the sample wrote.
#[derive(Debug, Clone)]
pub struct SampleEntry {
    pub txid: TxId,
    /// The whole entry, as in the chunk file.
    pub bytes: Vec<u8>,
    /// A signature transaction.
    pub committable: bool,
}

/// What was written.
#[derive(Debug)]
pub struct SampleLedger {
    pub entries: Vec<SampleEntry>,
    pub ledger_secret: [u8; 32],
    pub service_cert_pem: String,
    pub signatures: u64,
    pub last_signature: TxId,
    pub last_seqno: u64,
}

/// A fixed, plausible wall-clock time: the sample is reproducible from its seed.
const SAMPLE_TIME_UNIX: i64 = 1_760_000_000;
// Twenty years, so that tools checking validity against today's clock accept the sample for long.
const VALIDITY_SECONDS: i64 = 20 * 365 * 24 * 3600;

/// Writes a sample ledger into `dir` (created if missing).
pub fn write_sample_ledger(dir: &Path, spec: &SampleSpec) -> anyhow::Result<SampleLedger> {
    let mut entropy = SeededEntropy::from_seed(spec.seed);
    let mut ledger_secret = [0u8; 32];
    entropy.fill_bytes(&mut ledger_secret);
    let not_after = SAMPLE_TIME_UNIX + VALIDITY_SECONDS;
    let service = ServiceIdentity::generate(&mut entropy, SAMPLE_TIME_UNIX, not_after)?;
    let node = NodeIdentity::generate(
        &mut entropy,
        &service,
        vec!["127.0.0.1".to_owned()],
        SAMPLE_TIME_UNIX,
        not_after,
    )?;
    let member = sample_member(&mut entropy)?;
    let genesis = GenesisConfig {
        members: vec![GenesisMember {
            cert_pem: member.to_pem(),
            encryption_public_key_pem: None,
            member_data: None,
        }],
        constitution: cloister_js::DEFAULT_CONSTITUTION.to_owned(),
        recovery_threshold: 1,
        rpc_address: "127.0.0.1:8000".to_owned(),
        node_to_node_address: "127.0.0.1:8001".to_owned(),
        node_encryption_public_key_pem: None,
    };
    let mut settings = NodeSettings::with_genesis(genesis);
    settings.sig_tx_interval = spec.sig_tx_interval;
    settings.chunk_threshold_bytes = spec.chunk_threshold_bytes;
    let service_cert_pem = service.cert_pem();
    let env = NodeEnv {
        settings,
        engine: Box::new(cloister_js::QuickJsConstitution::new()),
        frontends: Frontends::default(),
        now_ms: 0,
        now_unix: SAMPLE_TIME_UNIX,
    };
    let core = NodeCore::start(
        env,
        NodeSecrets {
            node,
            service,
            ledger_secret,
        },
    )?;
    let mut sink = Sink {
        core,
        writer: LedgerDirWriter::create(dir, 1)?,
        keep: spec.keep_entries,
        kept: Vec::new(),
        signatures: 0,
        last_signature: TxId::default(),
        last_seqno: 0,
    };
    sink.drain()?;
    sink.core
        .execute_internal(|tx| open_service(tx, &service_cert_pem))?;
    sink.drain()?;
    for i in 0..spec.transactions {
        let key = format!("key-{}", i % 997).into_bytes();
        let mut value = vec![0u8; spec.value_bytes];
        entropy.fill_bytes(&mut value);
        let canary_turn = i == spec.transactions / 2;
        sink.core.execute_internal(|tx| {
            match i % 4 {
                0 => tx.put(PUBLIC_MAP, key, value),
                1 => tx.put(PRIVATE_MAP, key, value),
                2 => {
                    tx.put(PUBLIC_MAP, key.clone(), value.clone());
                    tx.put(PRIVATE_MAP, key, value);
                }
                _ => {
                    tx.remove(PUBLIC_MAP, key.clone());
                    tx.put(PRIVATE_MAP, key, value);
                }
            }
            if canary_turn {
                if let Some(canary) = &spec.private_canary {
                    tx.put(PRIVATE_MAP, b"canary".to_vec(), canary.clone());
                }
                if let Some(canary) = &spec.public_canary {
                    tx.put(PUBLIC_MAP, b"canary".to_vec(), canary.clone());
                }
            }
        })?;
        sink.drain()?;
    }
    // As CCF's signature timer would: sign whatever is left unsigned.
    sink.core.sign_now()?;
    sink.drain()?;
    sink.writer.flush()?;
    Ok(SampleLedger {
        entries: sink.kept,
        ledger_secret,
        service_cert_pem,
        signatures: sink.signatures,
        last_signature: sink.last_signature,
        last_seqno: sink.last_seqno,
    })
}

/// What `transition_service_to_open` writes on a fresh service.
fn open_service(tx: &mut cloister_kv::Tx, service_cert_pem: &str) {
    let info: Value = json!({
        "cert": service_cert_pem,
        "current_service_create_txid": "2.1",
        "recovery_count": 0,
        "status": "Open",
    });
    tx.put(
        SERVICE_INFO,
        SINGLETON_KEY.to_vec(),
        info.to_string().into_bytes(),
    );
}

/// The host side of the sample: writes what the node asks, then reports it persisted.
struct Sink {
    core: NodeCore,
    writer: LedgerDirWriter,
    keep: bool,
    kept: Vec<SampleEntry>,
    signatures: u64,
    last_signature: TxId,
    last_seqno: u64,
}

impl Sink {
    fn drain(&mut self) -> anyhow::Result<()> {
        loop {
            let mut appended = None;
            while let Some(output) = self.core.poll_output() {
                match output {
                    Output::AppendLedger {
                        seqno,
                        entry,
                        flags,
                        committable,
                    } => {
                        self.writer.append(&entry, flags, committable)?;
                        self.last_seqno = seqno.0;
                        appended = Some(seqno);
                        let txid = TxId {
                            view: cloister_node::core::STARTING_VIEW,
                            seqno,
                        };
                        if committable {
                            self.signatures += 1;
                            self.last_signature = txid;
                        }
                        if self.keep {
                            self.kept.push(SampleEntry {
                                txid,
                                bytes: entry,
                                committable,
                            });
                        }
                    }
                    Output::CommitLedger { up_to } => self.writer.commit(up_to.0)?,
                    // One node: nothing is sent, and nothing rolls back.
                    Output::Respond { .. }
                    | Output::SendPeer { .. }
                    | Output::Peers { .. }
                    | Output::Voted { .. }
                    | Output::WriteSnapshot { .. }
                    | Output::CommitSnapshot { .. }
                    | Output::LaunchProcess { .. }
                    | Output::ReadLedger { .. }
                    | Output::AppLog { .. }
                    | Output::NodeLog { .. }
                    | Output::JsExecuted { .. } => {}
                    Output::TruncateLedger { after } => {
                        anyhow::bail!("a single node rolled back to {after}")
                    }
                }
            }
            let Some(up_to) = appended else { return Ok(()) };
            self.core.handle(Input::Persisted {
                up_to: SeqNo(up_to.0),
            });
        }
    }
}

/// A member certificate for the genesis transaction.
fn sample_member(entropy: &mut dyn Entropy) -> anyhow::Result<Certificate> {
    let key = EcKeyPair::generate(Curve::P384, entropy)?;
    let spec = CertificateSpec {
        subject_cn: "member0".to_owned(),
        sans: Vec::new(),
        not_before_unix: SAMPLE_TIME_UNIX,
        not_after_unix: SAMPLE_TIME_UNIX + VALIDITY_SECONDS,
        is_ca: false,
    };
    Ok(issue_self_signed(&key, &spec)?)
}
