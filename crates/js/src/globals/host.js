// ccf.host (application calls only, CCF 6.x): asks the untrusted host to launch a process,
// fire and forget (spec/ccf-js.md §3.8). The checks and their texts are CCF's, in its order:
// the argument count, the array of strings, then the optional stdin ArrayBuffer.
(function (natives, ccf) {
  "use strict";
  const { bytesOf } = natives;
  const isArray = Array.isArray;
  function triggerSubprocess(...args) {
    if (args.length !== 1 && args.length !== 2) {
      throw new TypeError(`Passed ${args.length} arguments but expected 1 or 2`);
    }
    const list = args[0];
    if (!isArray(list)) {
      throw new TypeError("First argument must be an array");
    }
    const length = list.length >>> 0; // ToUint32, as CCF reads it
    if (length === 0) {
      throw new RangeError("First argument must be a non-empty array");
    }
    const argv = [];
    for (let i = 0; i < length; i++) {
      const arg = list[i]; // read once
      if (typeof arg !== "string") {
        throw new TypeError(
          "First argument must be an array of strings, found non-string",
        );
      }
      argv[i] = arg;
    }
    const stdin = args.length === 2 ? bytesOf(args[1], "Argument") : undefined;
    natives.triggerSubprocess(argv, stdin);
  }
  ccf.host = { triggerSubprocess };
});
