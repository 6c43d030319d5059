// ccf converters and toggles: exact argument counts, ArrayBuffer-only buffers; safe to call
// detached from `ccf` (ccf-app re-exports them).
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf, stringArg } = natives;
  const stringify = JSON.stringify;
  const parse = JSON.parse;

  function strToBuf(...args) {
    argc(args, 1);
    return natives.utf8Encode(stringArg(args[0], "Argument"));
  }
  function bufToStr(...args) {
    argc(args, 1);
    return natives.utf8Decode(bytesOf(args[0], "Argument"));
  }
  function jsonCompatibleToBuf(...args) {
    argc(args, 1);
    const text = stringify(args[0]);
    if (typeof text !== "string") {
      throw new TypeError("Argument is not JSON-compatible");
    }
    return natives.utf8Encode(text);
  }
  function bufToJsonCompatible(...args) {
    argc(args, 1);
    return parse(natives.utf8Decode(bytesOf(args[0], "Argument")));
  }
  function pemToId(...args) {
    argc(args, 1);
    return natives.pemToId(stringArg(args[0], "Argument"));
  }
  const toggle = (name) =>
    function (...args) {
      argc(args, 1);
      if (typeof args[0] !== "boolean") {
        throw new TypeError("Argument must be a boolean");
      }
      return natives.swapFlag(name, args[0]);
    };

  Object.assign(ccf, {
    strToBuf,
    bufToStr,
    jsonCompatibleToBuf,
    bufToJsonCompatible,
    pemToId,
    enableUntrustedDateTime: toggle("untrusted_time"),
    enableMetricsLogging: toggle("metrics_logging"),
  });
});
