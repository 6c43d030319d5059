// Math.random from the call's seeded generator; Date pinned to the epoch.
(function (natives) {
  "use strict";
  const draw = natives.random;
  Object.defineProperty(Math, "random", {
    value: function random() {
      return draw();
    },
    writable: true,
    configurable: true,
  });

  const RealDate = globalThis.Date;
  const construct = Reflect.construct;
  function PinnedDate(...args) {
    if (new.target === undefined) {
      return new RealDate(0).toString();
    }
    return construct(RealDate, args.length === 0 ? [0] : args, new.target);
  }
  Object.defineProperty(PinnedDate, "name", { value: "Date" });
  PinnedDate.prototype = RealDate.prototype;
  PinnedDate.now = function now() {
    return 0;
  };
  PinnedDate.parse = RealDate.parse;
  PinnedDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", {
    value: PinnedDate,
    writable: true,
    configurable: true,
  });
  globalThis.Date = PinnedDate;
});
