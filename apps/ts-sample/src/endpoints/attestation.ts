// Signed statements about notes. The service holds one ECDSA P-256 key (made on first use,
// stored as a JWK); it signs "this note had this digest at this revision", and anyone can check
// a statement with the public JWK or by asking /verify.
import { Response, getLastCommittedTxId, string as utf8 } from "@microsoft/ccf-app";
import {
  generateEcdsaKeyPair,
  jwkToPem,
  pemToJwk,
  pubPemToJwk,
  sign,
  verifySignature,
} from "@microsoft/ccf-app/crypto.js";
import { SigningAlgorithm } from "@microsoft/ccf-app/global.js";
import { fromBase64Url, toBase64Url } from "../lib/codec.js";
import {
  badRequest,
  caller,
  endpoint,
  forbidden,
  jsonObject,
  notFound,
  noteId,
  stringField,
} from "../lib/http.js";
import { SigningKey, records, revisions, signingKeys } from "../lib/store.js";

const ECDSA_SHA256: SigningAlgorithm = { name: "ECDSA", hash: "SHA-256" };
const KID = "notes-statements";

function serviceKey(): SigningKey {
  let key = signingKeys.get("current");
  if (key === undefined) {
    const pair = generateEcdsaKeyPair("secp256r1");
    key = { jwk: pemToJwk(pair.privateKey, KID), publicPem: pair.publicKey };
    signingKeys.set("current", key);
  }
  return key;
}

/** POST /notes/{id}/attestation: a statement on the caller's note, signed by the service. */
export const attestNote = endpoint((request): Response => {
  const me = caller(request).id;
  const id = noteId(request);
  const record = records.get(id);
  if (record === undefined) {
    throw notFound(`no note ${id}`);
  }
  if (record.owner !== me) {
    throw forbidden(`note ${id} belongs to another user`);
  }
  const committed = getLastCommittedTxId();
  const statement = JSON.stringify({
    note: id,
    owner: record.owner,
    digest: record.digest,
    revision: Number(revisions.get(id) ?? 0n),
    committedAtLeast: `${committed.view}.${committed.seqno}`,
  });
  const key = serviceKey();
  const signature = sign(ECDSA_SHA256, jwkToPem(key.jwk), utf8.encode(statement));
  return {
    body: {
      statement,
      signature: toBase64Url(signature),
      publicKey: pubPemToJwk(key.publicPem, KID),
    },
  };
});

/** GET /signing-key: the public JWK of the statement key; 404 before the first statement. */
export const signingKey = endpoint((): Response => {
  const key = signingKeys.get("current");
  if (key === undefined) {
    throw notFound("no statement has been signed yet");
  }
  return { body: pubPemToJwk(key.publicPem, KID) };
});

/** POST /verify {statement, signature}: whether the service signed that statement. */
export const verifyStatement = endpoint((request): Response => {
  const body = jsonObject(request);
  const statement = stringField(body, "statement", 4096);
  const signature = fromBase64Url(stringField(body, "signature", 256));
  if (signature === undefined) {
    throw badRequest("signature must be base64url");
  }
  const key = signingKeys.get("current");
  if (key === undefined) {
    throw notFound("no statement has been signed yet");
  }
  const valid = verifySignature(
    ECDSA_SHA256,
    key.publicPem,
    signature,
    utf8.encode(statement),
  );
  return { body: { valid } };
});
