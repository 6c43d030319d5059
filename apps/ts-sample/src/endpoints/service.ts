// Service-wide endpoints: the caller's own profile and the store's committed state.
import { Response, getLastCommittedTxId } from "@microsoft/ccf-app";
import { digest } from "@microsoft/ccf-app/crypto.js";
import { pemToDer, toHex } from "../lib/codec.js";
import { caller, endpoint } from "../lib/http.js";
import { noteCounts, records, refusals, tags } from "../lib/store.js";

/**
 * GET /me: who the caller is, as CCF says (the id) and as the app works it out from the caller's
 * certificate (SHA-256 of its DER: the same), with the caller's counts.
 */
export const me = endpoint((request): Response => {
  const identity = caller(request);
  const der = pemToDer(identity.cert);
  return {
    body: {
      id: identity.id,
      idFromCert: der === undefined ? null : toHex(digest("SHA-256", der)),
      data: identity.data,
      notes: noteCounts.get(identity.id) ?? 0,
      refusals: refusals.get(identity.id) ?? 0,
    },
  };
});

/** GET /status (no authentication): the last committed transaction and the store's sizes. */
export const status = endpoint((): Response => {
  const committed = getLastCommittedTxId();
  return {
    body: {
      lastCommitted: `${committed.view}.${committed.seqno}`,
      notes: records.size,
      tags: tags.size,
    },
  };
});
