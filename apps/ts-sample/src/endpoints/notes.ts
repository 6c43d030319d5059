// Secret notes. A user's note has a title, tags and a secret text; the secret is sealed in the
// store with AES-KWP under a 256-bit key of its owner's, and only the owner may read, change or
// delete the note. A refused write is still counted (the refusal is committed with the 403).
import {
  Request,
  Response,
  setApplyWrites,
  setClaimsDigest,
  string as utf8,
} from "@microsoft/ccf-app";
import {
  digest,
  generateAesKey,
  unwrapKey,
  wrapKey,
} from "@microsoft/ccf-app/crypto.js";
import { toHex } from "../lib/codec.js";
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
import {
  NoteRecord,
  noteCounts,
  ownerKeys,
  records,
  refusals,
  revisions,
  sealed,
  tags,
} from "../lib/store.js";

const KWP = { name: "AES-KWP" } as const;
const TAG = /^[a-z0-9-]{1,32}$/;
const MAX_TAGS = 8;

interface Written {
  id: string;
  record: NoteRecord;
  revision: bigint;
  created: boolean;
  hash: ArrayBuffer;
}

function parseTags(value: unknown): string[] {
  if (value === undefined) {
    return [];
  }
  if (
    !Array.isArray(value) ||
    value.length > MAX_TAGS ||
    !value.every((t) => typeof t === "string" && TAG.test(t))
  ) {
    throw badRequest(
      `tags must be at most ${MAX_TAGS} strings of lower-case letters, digits and '-'`,
    );
  }
  return [...new Set(value as string[])].sort();
}

/** Counts a refused write against `user` and commits that count despite the error status. */
function refuse(user: string, message: string): never {
  refusals.set(user, (refusals.get(user) ?? 0) + 1);
  setApplyWrites(true);
  throw forbidden(message);
}

/** The owner's key-wrapping key, made on first use. */
function ownerKey(owner: string): ArrayBuffer {
  let key = ownerKeys.get(owner);
  if (key === undefined) {
    key = generateAesKey(256);
    ownerKeys.set(owner, key);
  }
  return key;
}

/** The whole write of PUT (and of a preview, whose writes are then dropped). */
function write(request: Request): Written {
  const me = caller(request).id;
  const id = noteId(request);
  const body = jsonObject(request);
  const title = stringField(body, "title", 200);
  const secret = stringField(body, "secret", 4096);
  const noteTags = parseTags(body["tags"]);

  const existing = records.get(id);
  if (existing !== undefined && existing.owner !== me) {
    refuse(me, `note ${id} belongs to another user`);
  }
  const plain = utf8.encode(secret);
  const hash = digest("SHA-256", plain);
  const record: NoteRecord = { owner: me, title, tags: noteTags, digest: toHex(hash) };
  records.set(id, record);
  sealed.set(id, wrapKey(plain, ownerKey(me), KWP));
  const revision = (revisions.get(id) ?? 0n) + 1n;
  revisions.set(id, revision);
  if (existing === undefined) {
    noteCounts.set(me, (noteCounts.get(me) ?? 0) + 1);
  }
  for (const tag of noteTags) {
    tags.add(tag);
  }
  return { id, record, revision, created: existing === undefined, hash };
}

/** A note the caller owns, or a 404/403. */
function owned(request: Request): { id: string; me: string; record: NoteRecord } {
  const me = caller(request).id;
  const id = noteId(request);
  const record = records.get(id);
  if (record === undefined) {
    throw notFound(`no note ${id}`);
  }
  if (record.owner !== me) {
    throw forbidden(`note ${id} belongs to another user`);
  }
  return { id, me, record };
}

/** PUT /notes/{id}: 201 when created, 200 when updated; the claims digest is the secret's. */
export const putNote = endpoint((request): Response => {
  const written = write(request);
  setClaimsDigest(written.hash);
  return {
    statusCode: written.created ? 201 : 200,
    headers: { location: `/app/notes/${written.id}` },
    body: {
      id: written.id,
      revision: Number(written.revision),
      digest: written.record.digest,
    },
  };
});

/** POST /notes/{id}/preview: what PUT would store, nothing written. */
export const previewNote = endpoint((request): Response => {
  const written = write(request);
  setApplyWrites(false);
  return {
    body: {
      id: written.id,
      created: written.created,
      revision: Number(written.revision),
      record: written.record,
    },
  };
});

/** GET /notes/{id}: the note with its secret unsealed. */
export const getNote = endpoint((request): Response => {
  const { id, me, record } = owned(request);
  const blob = sealed.get(id);
  const key = ownerKeys.get(me);
  if (blob === undefined || key === undefined) {
    throw new Error(`note ${id} has no sealed secret`);
  }
  const plain = unwrapKey(blob, key, KWP);
  if (toHex(digest("SHA-256", plain)) !== record.digest) {
    throw new Error(`note ${id} does not match its digest`);
  }
  return {
    body: {
      id,
      title: record.title,
      tags: record.tags,
      secret: utf8.decode(plain),
      digest: record.digest,
      revision: Number(revisions.get(id) ?? 0n),
      lastWrittenAt: records.getVersionOfPreviousWrite(id),
    },
  };
});

/** DELETE /notes/{id}: 204; a refusal by another user is counted. */
export const deleteNote = endpoint((request): Response => {
  const me = caller(request).id;
  const id = noteId(request);
  const record = records.get(id);
  if (record === undefined) {
    throw notFound(`no note ${id}`);
  }
  if (record.owner !== me) {
    refuse(me, `note ${id} belongs to another user`);
  }
  records.delete(id);
  sealed.delete(id);
  noteCounts.set(me, (noteCounts.get(me) ?? 1) - 1);
  return { statusCode: 204 };
});

/** The value of `name` in a query string (form-encoded; CCF has already percent-decoded it). */
function queryParam(query: string, name: string): string | undefined {
  for (const pair of query.split("&")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at) === name) {
      return pair.slice(at + 1);
    }
  }
  return undefined;
}

/** GET /notes[?tag=t]: the caller's notes (id, title, tags), by id. */
export const listNotes = endpoint((request): Response => {
  const me = caller(request).id;
  const tag = queryParam(request.query, "tag");
  const mine: { id: string; title: string; tags: string[] }[] = [];
  records.forEach((record, id) => {
    if (record.owner === me && (tag === undefined || record.tags.includes(tag))) {
      mine.push({ id, title: record.title, tags: record.tags });
    }
  });
  mine.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { body: { notes: mine } };
});

/** GET /tags: every tag ever used, sorted. */
export const listTags = endpoint((): Response => {
  const all: string[] = [];
  tags.forEach((tag) => all.push(tag));
  return { body: all.sort() };
});
