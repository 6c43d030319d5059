// ccf.crypto: SHA-256 digest and X.509 bundle check.
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf, stringArg } = natives;
  function digest(...args) {
    argc(args, 2);
    if (args[0] !== "SHA-256") {
      throw new RangeError("Unsupported algorithm: only SHA-256 is supported");
    }
    return natives.sha256(bytesOf(args[1], "data"));
  }
  function isValidX509CertBundle(...args) {
    argc(args, 1);
    return natives.isValidX509CertBundle(stringArg(args[0], "Argument"));
  }
  ccf.crypto = { digest, isValidX509CertBundle };
});
