// ccf.consensus (application calls only): the node's view of consensus, not atomic with the
// request's transaction (spec/ccf-js.md §3.6).
(function (natives, ccf) {
  "use strict";
  const { argc } = natives;
  const isInteger = Number.isInteger;
  const MAX = Number.MAX_SAFE_INTEGER;
  const index = (value, what) => {
    if (typeof value !== "number" || !isInteger(value)) {
      throw new TypeError(`${what} must be an integer`);
    }
    if (value < 0 || value > MAX) {
      throw new RangeError(`${what} must be between 0 and ${MAX}`);
    }
    return value;
  };
  function getLastCommittedTxId(...args) {
    argc(args, 0);
    const last = natives.lastCommittedTxId();
    return { view: last[0], seqno: last[1] };
  }
  function getStatusForTxId(...args) {
    argc(args, 2);
    return natives.statusForTxId(index(args[0], "view"), index(args[1], "seqno"));
  }
  function getViewForSeqno(...args) {
    argc(args, 1);
    return natives.viewForSeqno(index(args[0], "seqno"));
  }
  ccf.consensus = { getLastCommittedTxId, getStatusForTxId, getViewForSeqno };
});
