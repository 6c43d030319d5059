// Helpers of the application request path, run before user code so that they hold the
// built-ins as the engine made them.
(function (natives) {
  "use strict";
  const isView = ArrayBuffer.isView;
  const DataViewClass = DataView;
  const slice = ArrayBuffer.prototype.slice;
  const apply = Reflect.apply;
  const { isArrayBuffer, latin1 } = natives;

  // The bytes of an ArrayBuffer or TypedArray response body (as latin1), undefined for any
  // other value. A DataView is not special-cased: it is JSON like any object
  // (spec/ccf-js.md §2.4).
  natives.bodyBytes = function (body) {
    if (isArrayBuffer(body)) {
      return latin1(body);
    }
    if (isView(body) && !(body instanceof DataViewClass)) {
      const start = body.byteOffset;
      return latin1(apply(slice, body.buffer, [start, start + body.byteLength]));
    }
    return undefined;
  };
});
