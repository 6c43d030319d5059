// ccf.kv: any property name gives a fresh handle object for that table; methods find their
// table through `this._map_name` (spec/ccf-js.md §3.3). Keys and values are ArrayBuffers.
(function (natives, ccf) {
  "use strict";
  const { argc, bytesOf } = natives;
  const create = Object.create;
  const defineProperty = Object.defineProperty;

  const nameOf = (handle) => {
    const name =
      handle === null || handle === undefined ? undefined : handle._map_name;
    if (typeof name !== "string") {
      throw new TypeError("kv map method called on something that is not a kv map");
    }
    return name;
  };
  const key = (value) => bytesOf(value, "Key");
  const value = (v) => bytesOf(v, "Value");

  const proto = {
    get(...args) {
      argc(args, 1);
      return natives.kvGet(nameOf(this), key(args[0]));
    },
    has(...args) {
      argc(args, 1);
      return natives.kvHas(nameOf(this), key(args[0]));
    },
    set(...args) {
      argc(args, 2);
      natives.kvSet(nameOf(this), key(args[0]), value(args[1]));
      return this;
    },
    delete(...args) {
      argc(args, 1);
      natives.kvDelete(nameOf(this), key(args[0]));
      return undefined;
    },
    clear(...args) {
      argc(args, 0);
      natives.kvClear(nameOf(this));
      return undefined;
    },
    forEach(...args) {
      argc(args, 1);
      const callback = args[0];
      if (typeof callback !== "function") {
        throw new TypeError("forEach callback must be a function");
      }
      const entries = natives.kvEntries(nameOf(this));
      for (let i = 0; i < entries.length; i++) {
        callback(entries[i][1], entries[i][0], this);
      }
      return undefined;
    },
    getVersionOfPreviousWrite(...args) {
      argc(args, 1);
      return natives.kvVersionOfPreviousWrite(nameOf(this), key(args[0]));
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
