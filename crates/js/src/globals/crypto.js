// ccf.crypto (spec/ccf-js.md §3.4): argument checks and CCF's error classes here, the work in
// the natives. Argument problems are TypeError/RangeError; library failures InternalError.
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf, stringArg, isArrayBuffer, latin1 } = natives;
  const parse = JSON.parse;
  const stringify = JSON.stringify;

  // CCF's to_str: ToString (a Symbol throws TypeError).
  const str = (value) => `${value}`;
  const argcOneOf = (args, lo, hi) => {
    if (args.length !== lo && args.length !== hi) {
      throw new TypeError(
        `Passed ${args.length} arguments, but expected ${lo} or ${hi}`,
      );
    }
  };
  const pair = (keys) => ({ privateKey: keys[0], publicKey: keys[1] });
  // An optional ArrayBuffer label; anything else, or an empty one, is no label.
  const labelOf = (params) => {
    const label = params.label;
    return isArrayBuffer(label) ? latin1(label) : "";
  };

  function digest(...args) {
    argc(args, 2);
    if (str(args[0]) !== "SHA-256") {
      throw new RangeError("unsupported digest algorithm, supported: SHA-256");
    }
    return natives.sha256(bytesOf(args[1], "data"));
  }
  function isValidX509CertBundle(...args) {
    argc(args, 1);
    return natives.isValidX509CertBundle(stringArg(args[0], "Argument"));
  }
  function isValidX509CertChain(...args) {
    argc(args, 2);
    return natives.isValidX509CertChain(str(args[0]), str(args[1]));
  }

  function generateAesKey(...args) {
    argc(args, 1);
    const bits = args[0] | 0;
    if (bits !== 128 && bits !== 192 && bits !== 256) {
      throw new RangeError("invalid key size (not one of 128, 192, 256)");
    }
    return natives.randomBytes(bits / 8);
  }
  function generateRsaKeyPair(...args) {
    argcOneOf(args, 1, 2);
    const bits = args[0] >>> 0;
    const exponent = args.length === 2 ? args[1] >>> 0 : 65537;
    return pair(natives.rsaKeyPair(bits, exponent));
  }
  function generateEcdsaKeyPair(...args) {
    argc(args, 1);
    const curve = str(args[0]);
    if (curve !== "secp256r1" && curve !== "secp384r1") {
      throw new RangeError(
        "Unsupported curve id, supported: secp256r1, secp384r1",
      );
    }
    return pair(natives.ecKeyPair(curve));
  }
  function generateEddsaKeyPair(...args) {
    argc(args, 1);
    const curve = str(args[0]);
    if (curve !== "curve25519" && curve !== "x25519") {
      throw new RangeError("Unsupported curve id, supported: curve25519, x25519");
    }
    return pair(natives.okpKeyPair(curve));
  }

  function sign(...args) {
    argc(args, 3);
    const [algorithm, keyArg, data] = args;
    const nameValue = algorithm.name;
    const hashValue = algorithm.hash;
    const name = str(nameValue);
    const key = str(keyArg);
    const bytes = bytesOf(data, "data");
    if (name === "EdDSA") {
      return natives.sign("EdDSA", "", key, bytes, 0);
    }
    const hash = str(hashValue);
    if (hash !== "SHA-256" && hash !== "SHA-384" && hash !== "SHA-512") {
      throw new RangeError(
        "Unsupported hash algorithm, supported: SHA-256, SHA-384, SHA-512",
      );
    }
    if (name !== "ECDSA" && name !== "RSA-PSS" && name !== "HMAC") {
      throw new RangeError(
        "Unsupported signing algorithm, supported: RSA-PSS, ECDSA, EdDSA, HMAC",
      );
    }
    const salt = name === "RSA-PSS" ? Math.trunc(Number(algorithm.saltLength)) || 0 : 0;
    return natives.sign(name, hash, key, bytes, salt);
  }
  function verifySignature(...args) {
    argc(args, 4);
    const [algorithm, keyArg, signature, data] = args;
    const sig = bytesOf(signature, "signature");
    const bytes = bytesOf(data, "data");
    const nameValue = algorithm.name;
    const hashValue = algorithm.hash;
    const name = str(nameValue);
    const key = str(keyArg);
    if (name === "EdDSA") {
      return natives.verify("EdDSA", "", key, sig, bytes, 0);
    }
    if (str(hashValue) !== "SHA-256") {
      throw new RangeError("Unsupported hash algorithm, supported: SHA-256");
    }
    if (name !== "RSA-PSS" && name !== "ECDSA") {
      throw new RangeError(
        "Unsupported signing algorithm, supported: RSA-PSS, ECDSA, EdDSA",
      );
    }
    const salt = name === "RSA-PSS" ? Math.trunc(Number(algorithm.saltLength)) || 0 : 0;
    return natives.verify(name, "SHA-256", key, sig, bytes, salt);
  }

  function keyWrapping(native, unsupported) {
    return function (...args) {
      argc(args, 3);
      const key = bytesOf(args[0], "key");
      const wrappingKey = bytesOf(args[1], "wrappingKey");
      const params = args[2];
      const name = str(params.name);
      if (name === "RSA-OAEP") {
        return native(name, key, wrappingKey, labelOf(params), 0);
      }
      if (name === "AES-KWP") {
        return native(name, key, wrappingKey, "", 0);
      }
      if (name === "RSA-OAEP-AES-KWP") {
        const aesKeySize = params.aesKeySize | 0;
        return native(name, key, wrappingKey, labelOf(params), aesKeySize);
      }
      throw new RangeError(unsupported);
    };
  }
  const wrapKey = keyWrapping(
    natives.wrapKey,
    "unsupported key wrapping algorithm, supported: RSA-OAEP, AES-KWP, RSA-OAEP-AES-KWP",
  );
  const unwrapKey = keyWrapping(
    natives.unwrapKey,
    "unsupported key unwrapping algorithm, supported: RSA-OAEP, AES-KWP, RSA-OAEP-AES-KWP",
  );

  // pem → JWK object (`kid` only when given), and JWK → PEM, for one key kind.
  function pemToJwk(kind) {
    return function (...args) {
      argcOneOf(args, 1, 2);
      const pem = str(args[0]);
      const kid = args.length === 2 ? str(args[1]) : undefined;
      return parse(natives.pemToJwk(kind, pem, kid));
    };
  }
  function jwkToPem(kind) {
    return function (...args) {
      argc(args, 1);
      return natives.jwkToPem(kind, str(stringify(args[0])));
    };
  }

  ccf.crypto = {
    sign,
    verifySignature,
    pubPemToJwk: pemToJwk("ecPublic"),
    pemToJwk: pemToJwk("ecPrivate"),
    pubRsaPemToJwk: pemToJwk("rsaPublic"),
    rsaPemToJwk: pemToJwk("rsaPrivate"),
    pubEddsaPemToJwk: pemToJwk("okpPublic"),
    eddsaPemToJwk: pemToJwk("okpPrivate"),
    pubJwkToPem: jwkToPem("ecPublic"),
    jwkToPem: jwkToPem("ecPrivate"),
    pubRsaJwkToPem: jwkToPem("rsaPublic"),
    rsaJwkToPem: jwkToPem("rsaPrivate"),
    pubEddsaJwkToPem: jwkToPem("okpPublic"),
    eddsaJwkToPem: jwkToPem("okpPrivate"),
    generateAesKey,
    generateRsaKeyPair,
    generateEcdsaKeyPair,
    generateEddsaKeyPair,
    wrapKey,
    unwrapKey,
    digest,
    isValidX509CertBundle,
    isValidX509CertChain,
  };
});
