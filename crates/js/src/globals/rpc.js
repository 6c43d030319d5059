// ccf.rpc (application calls only): the commit decision and the claims digest of the request's
// transaction (spec/ccf-js.md §3.5). Safe to call detached (ccf-app binds them at import time).
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf } = natives;
  function setApplyWrites(...args) {
    argc(args, 1);
    natives.setApplyWrites(Boolean(args[0]));
  }
  function setClaimsDigest(...args) {
    argc(args, 1);
    const digest = bytesOf(args[0], "Argument");
    if (digest.length !== 32) {
      throw new TypeError(
        `Argument must be an ArrayBuffer of 32 bytes (SHA-256), not ${digest.length}`,
      );
    }
    natives.setClaimsDigest(digest);
  }
  ccf.rpc = { setApplyWrites, setClaimsDigest };
});
