// console.log/info/warn/error: no console.debug, as in CCF.
(function (natives) {
  "use strict";
  const log = natives.log;
  const stringify = JSON.stringify;
  const format = (args) =>
    args
      .map((arg) =>
        typeof arg === "object" && arg !== null ? stringify(arg) : String(arg),
      )
      .join(" ");
  const console = {};
  for (const level of ["log", "info", "warn", "error"]) {
    console[level] = function (...args) {
      log(level, format(args));
    };
  }
  globalThis.console = console;
});
