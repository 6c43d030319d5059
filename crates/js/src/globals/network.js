// ccf.network.* (apply only).
(function (natives, ccf) {
  "use strict";
  const { argc, stringArg } = natives;
  const days = (value) => {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError("validity period must be a non-negative integer (days)");
    }
    return value;
  };
  function getLatestLedgerSecretSeqno(...args) {
    argc(args, 0);
    return natives.latestLedgerSecretSeqno();
  }
  function generateEndorsedCertificate(...args) {
    argc(args, 3);
    return natives.generateEndorsedCertificate(
      stringArg(args[0], "CSR"),
      stringArg(args[1], "valid_from"),
      days(args[2]),
    );
  }
  function generateNetworkCertificate(...args) {
    argc(args, 2);
    return natives.generateNetworkCertificate(
      stringArg(args[0], "valid_from"),
      days(args[1]),
    );
  }
  ccf.network = {
    getLatestLedgerSecretSeqno,
    generateEndorsedCertificate,
    generateNetworkCertificate,
  };
});
