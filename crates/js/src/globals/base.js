// Helpers shared by the glue scripts, captured before any user code runs.
(function (natives) {
  "use strict";
  const U8 = Uint8Array;
  const subarray = U8.prototype.subarray;
  const fromCharCode = String.fromCharCode;
  const apply = Reflect.apply;
  const CHUNK = 4096;

  // The bytes of an ArrayBuffer as a string of code units below 256.
  natives.latin1 = function (buffer) {
    const bytes = new U8(buffer);
    let out = "";
    for (let i = 0; i < bytes.length; i += CHUNK) {
      out += apply(fromCharCode, null, apply(subarray, bytes, [i, i + CHUNK]));
    }
    return out;
  };

  // CCF natives check their argument count exactly (spec/ccf-js.md §3.2).
  natives.argc = function (args, expected) {
    if (args.length !== expected) {
      throw new TypeError(
        `Passed ${args.length} arguments, but expected ${expected}`,
      );
    }
  };

  natives.bytesOf = function (value, what) {
    if (!natives.isArrayBuffer(value)) {
      throw new TypeError(`${what} must be an ArrayBuffer`);
    }
    return natives.latin1(value);
  };

  natives.stringArg = function (value, what) {
    if (typeof value !== "string") {
      throw new TypeError(`${what} must be a string`);
    }
    return value;
  };
});
