// Shared helpers of the app (a relative import exercises the bundle's module loader).
export function recordKey(request) {
  const id = request.params.id;
  if (!/^[0-9]+$/.test(id)) {
    throw new Error(`bad id ${id}`);
  }
  return ccf.strToBuf(id);
}
export function badRequest(message) {
  return { statusCode: 400, body: { error: message } };
}
