// Byte encodings the runtime does not provide (CCF has no btoa/atob, TextEncoder or Buffer):
// lower-case hex and unpadded base64url.
const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function toHex(buffer: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(buffer)) {
    out += byte.toString(16).padStart(2, "0");
  }
  return out;
}

export function toBase64Url(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) {
      out += ALPHABET[(chunk >> (18 - 6 * c)) & 63];
    }
  }
  return out;
}

/** Decodes unpadded base64url; undefined if `text` is not that. */
export function fromBase64Url(text: string): ArrayBuffer | undefined {
  if (text.length % 4 === 1) {
    return undefined;
  }
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const char of text) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) {
      return undefined;
    }
    acc = ((acc << 6) | value) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (acc >> bits) & 0xff;
    }
  }
  return bytes.buffer;
}

/** The DER bytes of the first block of a PEM text; undefined if it is not PEM. */
export function pemToDer(pem: string): ArrayBuffer | undefined {
  const match = /-----BEGIN [A-Z0-9 ]+-----([A-Za-z0-9+/=\s]+)-----END [A-Z0-9 ]+-----/.exec(pem);
  if (match === null) {
    return undefined;
  }
  const base64url = match[1]
    .replace(/\s+/g, "")
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
  return fromBase64Url(base64url);
}
