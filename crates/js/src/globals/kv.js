// ccf.kv: any property name gives a fresh handle object for that table; methods find their
// table through `this._map_name` (spec/ccf-js.md §3.3). Keys and values are ArrayBuffers.
// Argument errors use CCF 6's texts (kv_helpers.h); a method the execution context denies
// throws its permission error whatever its arguments, as CCF's `*_denied` functions do.
(function (natives, ccf) {
  "use strict";
  const { isArrayBuffer, latin1 } = natives;
  const create = Object.create;
  const defineProperty = Object.defineProperty;
  const READ = false;
  const WRITE = true;

  const nameOf = (handle) => {
    const name =
      handle === null || handle === undefined ? undefined : handle._map_name;
    if (typeof name !== "string") {
      throw new TypeError("kv map method called on something that is not a kv map");
    }
    return name;
  };

  // Throws the permission error if `method` is denied on the table, else `message`.
  const fail = (handle, method, write, message) => {
    natives.kvCheck(nameOf(handle), method, write);
    throw new TypeError(message);
  };
  const count = (handle, method, write, args, expected) => {
    if (args.length !== expected) {
      fail(handle, method, write, `Passed ${args.length} arguments, but expected ${expected}`);
    }
  };
  // The key of a one-argument method.
  const keyArg = (handle, method, write, args) => {
    count(handle, method, write, args, 1);
    if (!isArrayBuffer(args[0])) {
      fail(handle, method, write, "Argument must be an ArrayBuffer");
    }
    return latin1(args[0]);
  };

  const proto = {
    get(...args) {
      const key = keyArg(this, "get", READ, args);
      return natives.kvGet(nameOf(this), key);
    },
    has(...args) {
      const key = keyArg(this, "has", READ, args);
      return natives.kvHas(nameOf(this), key);
    },
    set(...args) {
      count(this, "set", WRITE, args, 2);
      if (!isArrayBuffer(args[0]) || !isArrayBuffer(args[1])) {
        fail(this, "set", WRITE, "Arguments must be ArrayBuffers");
      }
      natives.kvSet(nameOf(this), latin1(args[0]), latin1(args[1]));
      return this;
    },
    delete(...args) {
      const key = keyArg(this, "delete", WRITE, args);
      natives.kvDelete(nameOf(this), key);
      return undefined;
    },
    clear(...args) {
      count(this, "clear", WRITE, args, 0);
      natives.kvClear(nameOf(this));
      return undefined;
    },
    forEach(...args) {
      count(this, "forEach", READ, args, 1);
      const callback = args[0];
      if (typeof callback !== "function") {
        fail(this, "forEach", READ, "Argument must be a function");
      }
      const entries = natives.kvEntries(nameOf(this));
      for (let i = 0; i < entries.length; i++) {
        callback(entries[i][1], entries[i][0], this);
      }
      return undefined;
    },
    getVersionOfPreviousWrite(...args) {
      const key = keyArg(this, "getVersionOfPreviousWrite", READ, args);
      return natives.kvVersionOfPreviousWrite(nameOf(this), key);
    },
  };
  defineProperty(proto, "size", {
    get() {
      return natives.kvSize(nameOf(this));
    },
  });

  const handle = (name) => {
    const h = create(proto);
    defineProperty(h, "_map_name", { value: name, enumerable: true });
    return h;
  };

  ccf.kv = new Proxy(
    {},
    {
      get: (_, name) => (typeof name === "string" ? handle(name) : undefined),
      set: () => false,
      defineProperty: () => false,
      ownKeys: () => [],
    },
  );
});
