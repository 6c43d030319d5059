// Errors that carry an HTTP status, the wrapper that turns them into CCF-style OData error
// responses, and the request helpers every endpoint uses (caller id, JSON body, path id).
import { Request, Response, UserCertAuthnIdentity } from "@microsoft/ccf-app";

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) =>
  new HttpError(400, "InvalidInput", message);
export const forbidden = (message: string) =>
  new HttpError(403, "Forbidden", message);
export const notFound = (message: string) =>
  new HttpError(404, "ResourceNotFound", message);

export type Handler = (request: Request) => Response;

/** An endpoint function whose HttpErrors become error responses; other throws stay 500s. */
export function endpoint(handler: Handler): Handler {
  return (request) => {
    try {
      return handler(request);
    } catch (e) {
      if (e instanceof HttpError) {
        return {
          statusCode: e.statusCode,
          body: { error: { code: e.code, message: e.message } },
        };
      }
      throw e;
    }
  };
}

/** The user id (hex SHA-256 of the certificate) of a `user_cert` caller. */
export function caller(request: Request): UserCertAuthnIdentity {
  const identity = request.caller;
  if (identity === undefined || identity === null || identity.policy !== "user_cert") {
    throw new HttpError(401, "Unauthenticated", "a user certificate is required");
  }
  return identity as UserCertAuthnIdentity;
}

/** The body parsed as JSON; a 400 when it is not JSON or not an object. */
export function jsonObject(request: Request): Record<string, unknown> {
  let body: unknown;
  try {
    body = request.body.json();
  } catch {
    throw badRequest("the body must be JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** A string field of a JSON body, required, non-empty and at most `max` characters. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  max: number,
): string {
  const value = body[name];
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw badRequest(`${name} must be a string of 1 to ${max} characters`);
  }
  return value;
}

const NOTE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The `{id}` path parameter, checked. */
export function noteId(request: Request): string {
  const id = request.params["id"];
  if (id === undefined || !NOTE_ID.test(id)) {
    throw badRequest("a note id is 1 to 64 letters, digits, '-' or '_'");
  }
  return id;
}
