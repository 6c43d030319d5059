//! `cloister keygen --name member0 [--gen-enc-key]`: what CCF's `keygenerator.sh` makes — an
//! EC P-384 identity (`<name>_privk.pem`, self-signed `<name>_cert.pem`) and, for recovery
//! members, an RSA-2048 encryption key pair (`<name>_enc_pubk.pem`, `<name>_enc_privk.pem`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use cloister_crypto::{
    CertificateSpec, Curve, EcKeyPair, OsEntropy, RsaKeyPair, issue_self_signed,
};

/// Certificates are valid for a year, as keygenerator.sh's are.
const VALIDITY_DAYS: i64 = 365;

/// Writes `<dir>/<name>_{privk,cert}.pem` (and the encryption pair when asked); returns the
/// certificate's path.
pub fn generate(dir: &Path, name: &str, encryption_key: bool) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let key = EcKeyPair::generate(Curve::P384, &mut OsEntropy)?;
    let spec = CertificateSpec {
        subject_cn: name.to_owned(),
        sans: Vec::new(),
        not_before_unix: now - 60,
        not_after_unix: now + VALIDITY_DAYS * 24 * 3600,
        is_ca: false,
    };
    let cert = issue_self_signed(&key, &spec)?;
    let write = |suffix: &str, text: &str| {
        let path = dir.join(format!("{name}_{suffix}.pem"));
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        anyhow::Ok(path)
    };
    write("privk", &key.to_pem())?;
    let cert_path = write("cert", &cert.to_pem())?;
    if encryption_key {
        let rsa = RsaKeyPair::generate_2048()?;
        write("enc_privk", &rsa.to_pem())?;
        write("enc_pubk", &rsa.public_key().to_pem())?;
    }
    Ok(cert_path)
}
