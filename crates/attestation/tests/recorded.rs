//! CCF's recorded SEV-SNP reports and AMD endorsements (testdata/snp, see PROVENANCE.md):
//! the Milan and Genoa reports verify and read back the values CCF's own tests expect, and
//! tampered reports or endorsements are refused with a named reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use cloister_attestation::{
    SnpError, SnpReport, verify_snp_report, verify_snp_report_with_endorsed_tcb,
};
use cloister_crypto::{encode_pem, parse_pem_blocks};

/// The recorded files, compiled in (the tests stay sans-IO like the crate).
fn data(name: &str) -> Vec<u8> {
    let bytes: &[u8] = match name {
        "milan_attestation.bin" => include_bytes!("../../../testdata/snp/milan_attestation.bin"),
        "genoa_attestation.bin" => include_bytes!("../../../testdata/snp/genoa_attestation.bin"),
        "v2_milan_attestation.bin" => {
            include_bytes!("../../../testdata/snp/v2_milan_attestation.bin")
        }
        "milan_endorsements.pem" => include_bytes!("../../../testdata/snp/milan_endorsements.pem"),
        "genoa_endorsements.pem" => include_bytes!("../../../testdata/snp/genoa_endorsements.pem"),
        other => panic!("no recorded file {other}"),
    };
    bytes.to_vec()
}

fn text(name: &str) -> String {
    String::from_utf8(data(name)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bundle's certificates as DER, in order.
fn certs(pem: &str) -> Vec<Vec<u8>> {
    parse_pem_blocks(pem)
        .unwrap()
        .into_iter()
        .map(|block| block.der)
        .collect()
}

fn bundle(ders: &[Vec<u8>]) -> String {
    ders.iter()
        .map(|der| encode_pem("CERTIFICATE", der))
        .collect()
}

#[test]
fn milan_report_verifies_with_ccfs_values() {
    let report = verify_snp_report(
        &data("milan_attestation.bin"),
        &text("milan_endorsements.pem"),
    )
    .unwrap();
    assert_eq!(report.version, 3);
    assert_eq!((report.cpuid_fam_id, report.cpuid_mod_id), (25, 1));
    assert_eq!(report.reported_tcb.to_hex(), "db18000000000004");
    let tcb = report.reported_tcb;
    assert_eq!(
        (tcb.boot_loader(), tcb.tee(), tcb.snp(), tcb.microcode()),
        (4, 0, 24, 219)
    );
    // CCF's AMD endorsement URL for this report is built from its chip id.
    assert_eq!(
        hex(&report.chip_id),
        "4ffb5cb4fd594f3fee6528fc3fb10370bb38abe89dcd5ba2cf0ab6a11df2ca282add516bef45a890a8c9f9732bdca68f9f3f16c42e846030a800295dbeb19ba5"
    );
    assert_eq!(
        hex(&report.host_data),
        "4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10"
    );
    assert_eq!(report.vmpl, 0);
    assert_eq!(report.signature_algo, 1);
    assert_eq!(report.flags_signing_key(), 0);
    assert!(!report.policy_debug() && !report.policy_migrate_ma());
    assert!(report.policy_smt());
    assert_eq!(report.policy_abi_minor(), 0x1f);
}

#[test]
fn genoa_report_verifies_with_ccfs_values() {
    let report = verify_snp_report(
        &data("genoa_attestation.bin"),
        &text("genoa_endorsements.pem"),
    )
    .unwrap();
    assert_eq!((report.cpuid_fam_id, report.cpuid_mod_id), (0x19, 0x11));
    assert_eq!(report.reported_tcb.to_hex(), "541700000000000a");
    let tcb = report.reported_tcb;
    assert_eq!(
        (tcb.boot_loader(), tcb.tee(), tcb.snp(), tcb.microcode()),
        (10, 0, 23, 84)
    );
    assert_eq!(
        hex(&report.chip_id),
        "b1e24a27bbc3a4d58090d8b89851dce3b8031544be249b9ac17132bb222b027622347ee4d0fe4f689efdfc47a68cefc686cbb448d01436506ee1e28010cab7c0"
    );
}

#[test]
fn version_2_report_reads_the_values_of_ccfs_npm_test() {
    let report = SnpReport::parse(&data("v2_milan_attestation.bin")).unwrap();
    assert_eq!(report.version, 2);
    assert_eq!((report.cpuid_fam_id, report.cpuid_mod_id), (0, 0));
    assert_eq!(
        hex(&report.report_data),
        format!(
            "7a6a68c0a2b85b8aae00ca04f644831680222f44167e5558a9e072b70c60e958{}",
            "0".repeat(64)
        )
    );
    assert_eq!(
        hex(&report.measurement),
        "02c3b0d5bf1d256fa4e3b5deefc07b55ff2f7029085ed350f60959140a1a51f1310753ba5ab2c03a0536b1c0c193af47"
    );
    assert_eq!(
        hex(&report.host_data),
        "4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10"
    );
}

#[test]
fn a_flipped_report_byte_is_refused() {
    let endorsements = text("milan_endorsements.pem");
    for at in [0x090, 0x180, 0x29f, 0x2A0, 0x2E8] {
        let mut evidence = data("milan_attestation.bin");
        evidence[at] ^= 1;
        assert_eq!(
            verify_snp_report(&evidence, &endorsements).unwrap_err(),
            SnpError::BadReportSignature,
            "byte {at:#x}"
        );
    }
}

#[test]
fn a_report_the_vcek_did_not_sign_is_refused() {
    // Another Milan machine's report: the chain is AMD's, the VCEK is not its signer.
    let error = verify_snp_report(
        &data("v2_milan_attestation.bin"),
        &text("milan_endorsements.pem"),
    )
    .unwrap_err();
    assert_eq!(error, SnpError::BadReportSignature);
    assert_eq!(
        error.to_string(),
        "SEV-SNP: Chip certificate (VCEK) did not sign this attestation"
    );
}

#[test]
fn a_vcek_from_another_chain_breaks_the_chain() {
    let mut milan = certs(&text("milan_endorsements.pem"));
    milan[0] = certs(&text("genoa_endorsements.pem"))[0].clone();
    let error = verify_snp_report(&data("milan_attestation.bin"), &bundle(&milan)).unwrap_err();
    assert_eq!(error, SnpError::ChainBroken);
}

#[test]
fn a_foreign_root_is_refused() {
    // Milan's report with Genoa's (genuine AMD) chain: not Milan's pinned root.
    let error = verify_snp_report(
        &data("milan_attestation.bin"),
        &text("genoa_endorsements.pem"),
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            SnpError::UnexpectedRoot {
                family: 25,
                model: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().starts_with(
        "SEV-SNP: The root of trust public key for this attestation was not the expected one for 25 1:"
    ));
    // Milan's VCEK and ASK under Genoa's root.
    let mut milan = certs(&text("milan_endorsements.pem"));
    milan[2] = certs(&text("genoa_endorsements.pem"))[2].clone();
    let error = verify_snp_report(&data("milan_attestation.bin"), &bundle(&milan)).unwrap_err();
    assert!(
        matches!(error, SnpError::UnexpectedRoot { .. }),
        "{error:?}"
    );
}

#[test]
fn a_root_with_a_broken_self_signature_is_refused() {
    let mut milan = certs(&text("milan_endorsements.pem"));
    let last = milan[2].len() - 1;
    milan[2][last] ^= 1;
    let error = verify_snp_report(&data("milan_attestation.bin"), &bundle(&milan)).unwrap_err();
    assert_eq!(error, SnpError::RootNotSelfSigned);
}

#[test]
fn a_tampered_ask_breaks_the_chain() {
    let mut milan = certs(&text("milan_endorsements.pem"));
    let last = milan[1].len() - 1;
    milan[1][last] ^= 1;
    let error = verify_snp_report(&data("milan_attestation.bin"), &bundle(&milan)).unwrap_err();
    assert_eq!(error, SnpError::ChainBroken);
}

#[test]
fn endorsements_must_be_three_certificates() {
    let milan = certs(&text("milan_endorsements.pem"));
    let error =
        verify_snp_report(&data("milan_attestation.bin"), &bundle(&milan[..2])).unwrap_err();
    assert_eq!(error, SnpError::EndorsementCount(2));
    assert_eq!(
        error.to_string(),
        "Expected 3 endorsement certificates but got 2"
    );
    let error = verify_snp_report(&data("milan_attestation.bin"), "not a bundle").unwrap_err();
    assert_eq!(error, SnpError::EndorsementCount(0));
}

#[test]
fn policy_checks_before_the_signature_name_their_reason() {
    let endorsements = text("milan_endorsements.pem");
    let with = |at: usize, bytes: &[u8]| {
        let mut evidence = data("milan_attestation.bin");
        evidence[at..at + bytes.len()].copy_from_slice(bytes);
        verify_snp_report(&evidence, &endorsements).unwrap_err()
    };
    assert_eq!(with(0x000, &[1, 0, 0, 0]), SnpError::VersionTooOld(1));
    assert_eq!(with(0x048, &[0b0100]), SnpError::NotSignedByVcek(1));
    assert_eq!(with(0x048, &[0b0010]), SnpError::MaskChipKey);
    let host = with(0x030, &[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(host, SnpError::HostGenerated(u32::MAX));
    assert_eq!(
        host.to_string(),
        "SEV-SNP: VMPL for guest attestations must be in 0-3 range, not 4294967295"
    );
    assert_eq!(
        with(0x188, &[0x1A, 0x01]),
        SnpError::UnsupportedCpuid {
            family: 0x1A,
            model: 0x01
        }
    );
    assert_eq!(
        with(0x034, &[2, 0, 0, 0]),
        SnpError::UnsupportedSignatureAlgorithm(2)
    );
    assert_eq!(
        verify_snp_report(&data("milan_attestation.bin")[..100], &endorsements).unwrap_err(),
        SnpError::WrongSize(100)
    );
}

#[test]
fn a_claimed_tcb_must_equal_the_reported_one() {
    let evidence = data("milan_attestation.bin");
    let endorsements = text("milan_endorsements.pem");
    verify_snp_report_with_endorsed_tcb(&evidence, &endorsements, Some("db18000000000004"))
        .unwrap();
    let error =
        verify_snp_report_with_endorsed_tcb(&evidence, &endorsements, Some("0000000000000000"))
            .unwrap_err();
    assert_eq!(
        error.to_string(),
        "SEV-SNP: endorsed TCB 0000000000000000 does not match reported TCB db18000000000004"
    );
    let error =
        verify_snp_report_with_endorsed_tcb(&evidence, &endorsements, Some("db18")).unwrap_err();
    assert_eq!(error.to_string(), "SEV-SNP: TCB of size 2, expected 8");
}
