// The JS app that crates/node/tests/js_app.rs and crates/cli/tests/js_app_e2e.rs deploy with
// set_js_app (metadata.json lists its endpoints).
import { recordKey, badRequest } from "./lib.js";

const records = ccf.kv["records"];

export function echo(request) {
  return {
    body: {
      got: request.body.json(),
      caller: request.caller,
      route: request.route,
      params: request.params,
      query: request.query,
    },
  };
}

export function put(request) {
  const key = recordKey(request);
  const body = request.body.json();
  records.set(key, ccf.strToBuf(String(body.msg)));
  if (typeof body.msg !== "string") {
    return badRequest("msg must be a string");
  }
  console.log("stored record", request.params.id, { length: body.msg.length });
  return { statusCode: 201, body: { stored: body.msg } };
}

export function get(request) {
  const value = records.get(recordKey(request));
  if (value === undefined) {
    return { statusCode: 404, body: { error: "no such record" } };
  }
  return { body: { msg: ccf.bufToStr(value) } };
}

export function sneakyWrite(request) {
  records.set(ccf.strToBuf("1"), ccf.strToBuf("sneaky"));
  return { body: "wrote" };
}

export function claim(request) {
  records.set(ccf.strToBuf("claimed"), ccf.strToBuf("yes"));
  ccf.rpc.setClaimsDigest(new Uint8Array(32).fill(0x11).buffer);
  return { body: "claimed" };
}

export function spin(request) {
  for (;;) {}
}

export function recurse(request) {
  const deeper = (n) => deeper(n + 1) + 1;
  return { body: String(deeper(0)) };
}

export function bomb(request) {
  const hoard = [];
  for (;;) {
    hoard.push("x".repeat(1024 * 1024) + hoard.length);
  }
}

export function quiet(request) {
  ccf.enableMetricsLogging(false);
  return { body: "shh" };
}
