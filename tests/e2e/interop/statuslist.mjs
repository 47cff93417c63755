// Read a Token Status List (draft-ietf-oauth-status-list) with panva/jose and node:zlib alone.
// usage: node statuslist.mjs <jwks.json path> <idx> [<idx> …]   (the list token on stdin)
// Prints {"ok": true, "header": …, "payload": …, "slots": {idx: status}} or {"ok": false, …}.
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { createLocalJWKSet, jwtVerify } from "jose";

const [jwksPath, ...indexes] = process.argv.slice(2);
const token = readFileSync(0, "utf8").trim();
const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksPath, "utf8")));
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    typ: "statuslist+jwt",
    algorithms: ["RS256", "ES256", "EdDSA"],
    requiredClaims: ["sub", "iat", "exp"],
  });
  const { bits, lst } = payload.status_list;
  const bytes = inflateSync(Buffer.from(lst, "base64url"));
  const slots = {};
  for (const text of indexes) {
    const idx = Number(text);
    const bit = idx * bits;
    slots[text] = (bytes[bit >> 3] >> (bit & 7)) & ((1 << bits) - 1);
  }
  console.log(JSON.stringify({ ok: true, header: protectedHeader, payload, slots, size: bytes.length }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err.code || String(err) }));
}
