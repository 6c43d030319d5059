// ccf.setJwtPublicSigningKeys / ccf.removeJwtPublicSigningKeys (apply only): CCF's
// set_jwt_public_signing_keys / remove_jwt_public_signing_keys over
// public:ccf.gov.jwt.public_signing_keys_metadata_v2 (kid -> [{public_key, issuer, constraint?}]).
(function (natives, ccf) {
  "use strict";
  const { argc } = natives;
  const KEYS = "public:ccf.gov.jwt.public_signing_keys_metadata_v2";

  const read = (kid) => {
    const raw = ccf.kv[KEYS].get(ccf.strToBuf(kid));
    return raw === undefined ? undefined : ccf.bufToJsonCompatible(raw);
  };
  const write = (kid, entries) => {
    if (entries.length === 0) {
      ccf.kv[KEYS].delete(ccf.strToBuf(kid));
    } else {
      ccf.kv[KEYS].set(ccf.strToBuf(kid), ccf.jsonCompatibleToBuf(entries));
    }
  };
  // Kids that currently hold a key of `issuer`.
  const kidsOf = (issuer) => {
    const kids = [];
    ccf.kv[KEYS].forEach((value, key) => {
      if (ccf.bufToJsonCompatible(value).some((entry) => entry.issuer === issuer)) {
        kids.push(ccf.bufToStr(key));
      }
    });
    return kids;
  };
  const host = (url) => {
    const rest = url.includes("://") ? url.slice(url.indexOf("://") + 3) : url;
    const authority = rest.split(/[/?#]/)[0];
    return authority.slice(authority.lastIndexOf("@") + 1).split(":")[0];
  };
  // A constraint must name the issuer's domain or a parent domain of it.
  const constraintFits = (issuer, constraint) => {
    const issuerHost = host(issuer);
    const constraintHost = host(constraint);
    if (constraintHost === "") {
      return false;
    }
    return issuerHost === constraintHost || issuerHost.endsWith("." + constraintHost);
  };

  function removeJwtPublicSigningKeys(...args) {
    argc(args, 1);
    const issuer = String(args[0]);
    for (const kid of kidsOf(issuer)) {
      write(kid, read(kid).filter((entry) => entry.issuer !== issuer));
    }
  }

  function setJwtPublicSigningKeys(...args) {
    argc(args, 3);
    const issuer = String(args[0]);
    const jwks = args[2];
    const fail = (why) => {
      throw new Error(`setJwtPublicSigningKeys: ${why}`);
    };
    if (jwks === null || typeof jwks !== "object" || !Array.isArray(jwks.keys)) {
      fail("jwks.keys must be an array");
    }
    if (jwks.keys.length === 0) {
      fail("JWKS has no keys");
    }
    const fresh = new Map();
    for (const jwk of jwks.keys) {
      if (typeof jwk?.kid !== "string") {
        fail("Missing kid for JWT signing key");
      }
      let publicKey;
      try {
        publicKey = natives.jwkPublicKey(JSON.stringify(jwk));
      } catch (e) {
        fail(e.message);
      }
      const entry = { public_key: publicKey, issuer };
      if (jwk.issuer !== undefined) {
        if (!constraintFits(issuer, String(jwk.issuer))) {
          fail(
            `JWKS kid ${jwk.kid} with issuer constraint ${jwk.issuer} fails validation against issuer ${issuer}`,
          );
        }
        entry.constraint = String(jwk.issuer);
      }
      fresh.set(jwk.kid, entry);
    }
    const previous = kidsOf(issuer);
    for (const [kid, entry] of fresh) {
      const entries = read(kid) ?? [];
      const same = entries.some(
        (e) =>
          e.issuer === issuer &&
          e.public_key === entry.public_key &&
          e.constraint === entry.constraint,
      );
      if (same) {
        continue; // no redundant write, as CCF
      }
      const at = entries.findIndex((e) => e.issuer === issuer);
      if (at >= 0) {
        entries[at] = entry;
      } else {
        entries.push(entry);
      }
      write(kid, entries);
    }
    for (const kid of previous) {
      if (!fresh.has(kid)) {
        write(kid, read(kid).filter((entry) => entry.issuer !== issuer));
      }
    }
  }

  ccf.setJwtPublicSigningKeys = setJwtPublicSigningKeys;
  ccf.removeJwtPublicSigningKeys = removeJwtPublicSigningKeys;
});
