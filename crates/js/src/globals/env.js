// Math.random from the call's seeded generator; Date pinned to the epoch unless
// ccf.enableUntrustedDateTime(true), then the host time the caller gave.
(function (natives) {
  "use strict";
  const draw = natives.random;
  const now = natives.now;
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
      return new RealDate(now()).toString();
    }
    return construct(RealDate, args.length === 0 ? [now()] : args, new.target);
  }
  Object.defineProperty(PinnedDate, "name", { value: "Date" });
  PinnedDate.prototype = RealDate.prototype;
  PinnedDate.now = function () {
    return now();
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
