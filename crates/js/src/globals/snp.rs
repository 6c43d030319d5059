//! `snp_attestation.verifySnpAttestation` (spec/ccf-js.md §3.9), in governance and application
//! contexts as CCF installs it: `snp.js` checks the arguments, this native verifies through
//! cloister-attestation and builds CCF's result object (byte fields as ArrayBuffers, TCBs as
//! `{boot_loader, tee, snp, microcode}`, CCF's `plaform_info` spelling), or throws CCF's
//! texts as RangeError.

use cloister_attestation::{SnpReport, TcbVersion, verify_snp_report_with_endorsed_tcb};
use rquickjs::{Ctx, Exception, Function, Object};

use super::{array_buffer, bytes_from_latin1};

const SNP_JS: &str = include_str!("snp.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
) -> rquickjs::Result<&'static str> {
    natives.set(
        "verifySnpAttestation",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             evidence: String,
             endorsements: String,
             endorsed_tcb: Option<String>|
             -> rquickjs::Result<Object<'js>> {
                let evidence = bytes_from_latin1(&ctx, &evidence)?;
                let endorsements = bytes_from_latin1(&ctx, &endorsements)?;
                let endorsements = String::from_utf8_lossy(&endorsements);
                let report = verify_snp_report_with_endorsed_tcb(
                    &evidence,
                    &endorsements,
                    endorsed_tcb.as_deref(),
                )
                .map_err(|e| Exception::throw_range(&ctx, &e.to_string()))?;
                result_object(&ctx, &report)
            },
        )?,
    )?;
    Ok(SNP_JS)
}

/// `{attestation: {...}}` with CCF's keys in CCF's order.
fn result_object<'js>(ctx: &Ctx<'js>, report: &SnpReport) -> rquickjs::Result<Object<'js>> {
    let obj = || Object::new(ctx.clone());
    let bytes = |b: &[u8]| array_buffer(ctx, b);
    let bit = u32::from;
    let a = obj()?;
    a.set("version", report.version)?;
    a.set("guest_svn", report.guest_svn)?;
    let policy = obj()?;
    policy.set("abi_minor", u32::from(report.policy_abi_minor()))?;
    policy.set("abi_major", u32::from(report.policy_abi_major()))?;
    policy.set("smt", bit(report.policy_smt()))?;
    policy.set("migrate_ma", bit(report.policy_migrate_ma()))?;
    policy.set("debug", bit(report.policy_debug()))?;
    policy.set("single_socket", bit(report.policy_single_socket()))?;
    a.set("policy", policy)?;
    a.set("family_id", bytes(&report.family_id)?)?;
    a.set("image_id", bytes(&report.image_id)?)?;
    a.set("vmpl", report.vmpl)?;
    a.set("signature_algo", report.signature_algo)?;
    a.set(
        "platform_version",
        tcb_object(ctx, &report.platform_version)?,
    )?;
    let platform_info = obj()?;
    platform_info.set("smt_en", bit(report.platform_smt_en()))?;
    platform_info.set("tsme_en", bit(report.platform_tsme_en()))?;
    a.set("plaform_info", platform_info)?; // sic: CCF's runtime key
    let flags = obj()?;
    flags.set("author_key_en", bit(report.flags_author_key_en()))?;
    flags.set("mask_chip_key", bit(report.flags_mask_chip_key()))?;
    flags.set("signing_key", u32::from(report.flags_signing_key()))?;
    a.set("flags", flags)?;
    a.set("report_data", bytes(&report.report_data)?)?;
    a.set("measurement", bytes(&report.measurement)?)?;
    a.set("host_data", bytes(&report.host_data)?)?;
    a.set("id_key_digest", bytes(&report.id_key_digest)?)?;
    a.set("author_key_digest", bytes(&report.author_key_digest)?)?;
    a.set("report_id", bytes(&report.report_id)?)?;
    a.set("report_id_ma", bytes(&report.report_id_ma)?)?;
    a.set("reported_tcb", tcb_object(ctx, &report.reported_tcb)?)?;
    a.set("cpuid_fam_id", u32::from(report.cpuid_fam_id))?;
    a.set("cpuid_mod_id", u32::from(report.cpuid_mod_id))?;
    a.set("cpuid_step", u32::from(report.cpuid_step))?;
    a.set("chip_id", bytes(&report.chip_id)?)?;
    a.set("committed_tcb", tcb_object(ctx, &report.committed_tcb)?)?;
    a.set("current_minor", u32::from(report.current_minor))?;
    a.set("current_build", u32::from(report.current_build))?;
    a.set("current_major", u32::from(report.current_major))?;
    a.set("committed_build", u32::from(report.committed_build))?;
    a.set("committed_minor", u32::from(report.committed_minor))?;
    a.set("committed_major", u32::from(report.committed_major))?;
    a.set("launch_tcb", tcb_object(ctx, &report.launch_tcb)?)?;
    let signature = obj()?;
    signature.set("r", bytes(&report.signature_r)?)?;
    signature.set("s", bytes(&report.signature_s)?)?;
    a.set("signature", signature)?;
    let result = obj()?;
    result.set("attestation", a)?;
    Ok(result)
}

/// CCF 6's `make_js_tcb_version`: the Milan/Genoa components as numbers.
fn tcb_object<'js>(ctx: &Ctx<'js>, tcb: &TcbVersion) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    object.set("boot_loader", u32::from(tcb.boot_loader()))?;
    object.set("tee", u32::from(tcb.tee()))?;
    object.set("snp", u32::from(tcb.snp()))?;
    object.set("microcode", u32::from(tcb.microcode()))?;
    Ok(object)
}
