// ccf.node.* and ccf.refreshAppBytecodeCache (apply only).
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf } = natives;
  const simple = (kind) =>
    function (...args) {
      argc(args, 0);
      natives.nodeAction(kind);
    };
  function transitionServiceToOpen(...args) {
    argc(args, 2);
    const previous =
      args[0] === undefined ? undefined : bytesOf(args[0], "Previous service identity");
    natives.transitionServiceToOpen(previous, bytesOf(args[1], "Next service identity"));
  }
  function triggerACMERefresh(...args) {
    if (args.length > 1) {
      throw new TypeError(`Passed ${args.length} arguments, but expected 0 or 1`);
    }
    const interfaces = args[0];
    if (interfaces !== undefined) {
      if (!Array.isArray(interfaces) || interfaces.some((i) => typeof i !== "string")) {
        throw new TypeError("interfaces must be an array of strings");
      }
    }
    natives.triggerAcmeRefresh(interfaces === undefined ? undefined : [...interfaces]);
  }
  ccf.node = {
    triggerLedgerRekey: simple("triggerLedgerRekey"),
    triggerRecoverySharesRefresh: simple("triggerRecoverySharesRefresh"),
    triggerLedgerChunk: simple("triggerLedgerChunk"),
    triggerSnapshot: simple("triggerSnapshot"),
    transitionServiceToOpen,
    triggerACMERefresh,
  };
  ccf.refreshAppBytecodeCache = simple("refreshAppBytecodeCache");
});
