// ccf.historical and ccf.historicalState (application calls only, spec/ccf-js.md §3.7).
// A state is {transactionId, receipt, kv}; its kv is like ccf.kv but every table is read-only
// (tables the context may not touch stay illegal). States live in the call's native list and
// are named by (index, seqno), so a state captured by an earlier request of a reused
// interpreter is never mistaken for another transaction.
(function (natives, ccf) {
  "use strict";
  const { isArrayBuffer, latin1, argc } = natives;
  const create = Object.create;
  const defineProperty = Object.defineProperty;
  const parse = JSON.parse;
  const trunc = Math.trunc;
  const NumberOf = Number;
  const isNaN = Number.isNaN;
  const WeakMapCtor = WeakMap;
  const READ = false;
  const WRITE = true;

  // handle object -> [index, seqno] of its state.
  const owners = new WeakMapCtor();

  const nameOf = (handle) => {
    const name =
      handle === null || handle === undefined ? undefined : handle._map_name;
    if (typeof name !== "string") {
      throw new TypeError("kv map method called on something that is not a kv map");
    }
    return name;
  };
  const ownerOf = (handle) => {
    const owner = owners.get(handle);
    if (owner === undefined) {
      throw new TypeError("kv map method called on something that is not a kv map");
    }
    return owner;
  };
  // Throws the permission error if `method` is denied on the table (every write is).
  const check = (handle, method, write) => {
    natives.histCheck(nameOf(handle), method, write);
  };
  const keyArg = (handle, method, args) => {
    check(handle, method, READ);
    if (args.length !== 1) {
      throw new TypeError(`Passed ${args.length} arguments, but expected 1`);
    }
    if (!isArrayBuffer(args[0])) {
      throw new TypeError("Argument must be an ArrayBuffer");
    }
    return latin1(args[0]);
  };
  const call = (handle, native, ...rest) => {
    const [index, seqno] = ownerOf(handle);
    return native(index, seqno, nameOf(handle), ...rest);
  };

  const proto = {
    get(...args) {
      const key = keyArg(this, "get", args);
      return call(this, natives.histGet, key);
    },
    has(...args) {
      const key = keyArg(this, "has", args);
      return call(this, natives.histGet, key) !== undefined;
    },
    getVersionOfPreviousWrite(...args) {
      const key = keyArg(this, "getVersionOfPreviousWrite", args);
      return call(this, natives.histGet, key) === undefined
        ? undefined
        : ownerOf(this)[1];
    },
    set() {
      check(this, "set", WRITE);
    },
    delete() {
      check(this, "delete", WRITE);
    },
    clear() {
      check(this, "clear", WRITE);
    },
    forEach(...args) {
      check(this, "forEach", READ);
      if (args.length !== 1) {
        throw new TypeError(`Passed ${args.length} arguments, but expected 1`);
      }
      const callback = args[0];
      if (typeof callback !== "function") {
        throw new TypeError("Argument must be a function");
      }
      const entries = call(this, natives.histEntries);
      for (let i = 0; i < entries.length; i++) {
        callback(entries[i][1], entries[i][0], this);
      }
      return undefined;
    },
  };
  defineProperty(proto, "size", {
    get() {
      check(this, "size", READ);
      return call(this, natives.histEntries).length;
    },
  });

  const kvOf = (owner) =>
    new Proxy(
      {},
      {
        get: (_, name) => {
          if (typeof name !== "string") {
            return undefined;
          }
          const handle = create(proto);
          defineProperty(handle, "_map_name", { value: name, enumerable: true });
          owners.set(handle, owner);
          return handle;
        },
        set: () => false,
        defineProperty: () => false,
        ownKeys: () => [],
      },
    );

  // [index, seqno, "view.seqno", receipt JSON] from the natives -> the state object.
  const stateOf = (info) => ({
    transactionId: info[2],
    receipt: parse(info[3]),
    kv: kvOf([info[0], info[1]]),
  });

  // CCF converts with ToInt64 and refuses negative values.
  const int64 = (value) => {
    const n = trunc(NumberOf(value));
    return isNaN(n) ? 0 : n;
  };

  function getStateRange(...args) {
    argc(args, 4);
    const handle = int64(args[0]);
    const start = int64(args[1]);
    const end = int64(args[2]);
    const expiry = int64(args[3]);
    if (handle < 0 || start < 0 || end < 0 || expiry < 0) {
      throw new RangeError("Invalid handle or seqno or expiry: cannot be negative");
    }
    const infos = natives.histRange(handle, start, end, expiry);
    if (infos === null) {
      return null;
    }
    const states = [];
    for (let i = 0; i < infos.length; i++) {
      states.push(stateOf(infos[i]));
    }
    return states;
  }

  function dropCachedStates(...args) {
    argc(args, 1);
    const handle = int64(args[0]);
    if (handle < 0) {
      throw new RangeError("Invalid handle: cannot be negative");
    }
    return natives.histDrop(handle);
  }

  ccf.historical = { getStateRange, dropCachedStates };

  // The target of a `mode: "historical"` endpoint, one object per request.
  let current;
  defineProperty(ccf, "historicalState", {
    enumerable: true,
    configurable: true,
    get() {
      const target = natives.histTarget();
      if (target === null) {
        return undefined;
      }
      if (target[4] || current === undefined) {
        current = stateOf(target);
      }
      return current;
    },
  });
});
