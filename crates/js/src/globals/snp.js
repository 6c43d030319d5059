// snp_attestation.verifySnpAttestation(evidence, endorsements[, uvm_endorsements[, endorsed_tcb]])
// (spec/ccf-js.md §3.9): CCF's argument checks here, verification in the native. Byte
// arguments must be ArrayBuffers (QuickJS's JS_GetArrayBuffer text); endorsed_tcb is
// converted with ToString; undefined optional arguments are absent. UVM endorsements (COSE
// Sign1 over a DID:x509 chain) are not verified by Cloister: passing them throws after the
// report itself has verified, where CCF would verify them.
(function (natives) {
  "use strict";
  const { isArrayBuffer, latin1 } = natives;
  const verify = natives.verifySnpAttestation;

  const bytes = (value) => {
    if (!isArrayBuffer(value)) {
      throw new TypeError("ArrayBuffer object expected");
    }
    return latin1(value);
  };

  // Four named parameters: CCF declares the function with length 4.
  function verifySnpAttestation(evidence, endorsements, uvmEndorsements, endorsedTcb) {
    const argc = arguments.length;
    if (argc < 2 || argc > 4) {
      throw new TypeError(`Passed ${argc} arguments, but expected between 2 and 4`);
    }
    const evidenceBytes = bytes(evidence);
    const endorsementBytes = bytes(endorsements);
    const hasUvm = uvmEndorsements !== undefined;
    if (hasUvm) {
      bytes(uvmEndorsements);
    }
    const tcb = endorsedTcb === undefined ? null : `${endorsedTcb}`;
    const result = verify(evidenceBytes, endorsementBytes, tcb);
    if (hasUvm) {
      throw new RangeError(
        "UVM endorsements verification is not supported by Cloister",
      );
    }
    return result;
  }

  globalThis.snp_attestation = { verifySnpAttestation };
});
