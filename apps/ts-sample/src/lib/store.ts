// The app's tables, as typed views over CCF's key-value store (@microsoft/ccf-app typedKv and
// typedKvSet with its converters). All are private tables: encrypted in the ledger.
import {
  arrayBuffer,
  int64,
  json,
  string,
  typedKv,
  typedKvSet,
  uint32,
} from "@microsoft/ccf-app";
import { JsonWebKeyECPrivate } from "@microsoft/ccf-app/global.js";

/** What the store keeps of a note in clear; its secret text is sealed in `sealed`. */
export interface NoteRecord {
  owner: string;
  title: string;
  tags: string[];
  /** Hex SHA-256 of the secret's UTF-8 bytes. */
  digest: string;
}

/** The service's statement-signing key: a P-256 private JWK and its public PEM. */
export interface SigningKey {
  jwk: JsonWebKeyECPrivate;
  publicPem: string;
}

/** Note id → record. */
export const records = typedKv("notes.records", string, json<NoteRecord>());
/** Note id → the secret, AES-KWP-wrapped with its owner's key. */
export const sealed = typedKv("notes.sealed", string, arrayBuffer);
/** User id → that user's 256-bit AES key-wrapping key, made on the user's first note. */
export const ownerKeys = typedKv("notes.owner_keys", string, arrayBuffer);
/** Note id → revision (1 on creation), kept after deletion so ids are never reused blindly. */
export const revisions = typedKv("notes.revisions", string, int64);
/** User id → how many notes the user has. */
export const noteCounts = typedKv("notes.counts", string, uint32);
/** User id → how many writes of the user were refused (kept although the request failed). */
export const refusals = typedKv("notes.refusals", string, uint32);
/** Every tag ever used. */
export const tags = typedKvSet("notes.tags", string);
/** "current" → the service's signing key. */
export const signingKeys = typedKv("notes.signing_key", string, json<SigningKey>());
