// Verify a vouch proof token with panva/jose, given only the server's JWKS.
// usage: node verify.mjs <jwks.json path> <issuer>   (token on stdin)
// Prints {"ok": true, "header": …, "payload": …} or {"ok": false, "error": …}.
import { readFileSync } from "node:fs";
import { createLocalJWKSet, jwtVerify } from "jose";

const [jwksPath, issuer] = process.argv.slice(2);
const token = readFileSync(0, "utf8").trim();
const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksPath, "utf8")));
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    algorithms: ["RS256", "ES256", "EdDSA"],
  });
  console.log(JSON.stringify({ ok: true, header: protectedHeader, payload }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err.code || String(err) }));
}
