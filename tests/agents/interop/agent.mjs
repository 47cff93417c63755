// An agent written in another language from docs/agents.md alone: Node.js built-in crypto, no
// vouch code. Reads a JSON job on stdin, prints JSON on stdout.
//   {"op": "keygen"}                                   -> {"private_jwk", "public_key", "kid"}
//   {"op": "prove", "private_jwk", "challenge"}         -> {"proof"}
//   {"op": "sign-request", "private_jwk", "method", "url", "nonce", "created", "expires"}
//                                                       -> {"headers": {"Signature-Input", "Signature"}}
import { createHash, createPrivateKey, generateKeyPairSync, sign } from "node:crypto";

// RFC 8785: JSON.stringify already writes numbers and strings the JCS way; objects need their
// members sorted by UTF-16 code units, which is what Array.prototype.sort does by default.
function canonicalize(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  return (
    "{" +
    Object.keys(value)
      .sort()
      .map((k) => JSON.stringify(k) + ":" + canonicalize(value[k]))
      .join(",") +
    "}"
  );
}

const b64url = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

// RFC 7638 thumbprint of an OKP key: SHA-256 over {"crv","kty","x"} in that order, base64url.
const thumbprint = (x) =>
  b64url(createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest());

function prove(privateJwk, challenge) {
  const context = challenge.context ?? {};
  const contextHash = createHash("sha256").update(canonicalize(context), "utf8").digest("hex");
  const message = [
    "vouch-agent-proof/v1",
    challenge.challenge_id,
    challenge.nonce,
    challenge.agent_id,
    challenge.action,
    contextHash,
  ].join("\n");
  const key = createPrivateKey({ key: privateJwk, format: "jwk" });
  return sign(null, Buffer.from(message, "utf8"), key).toString("hex");
}

// RFC 9421 §2.5 signature base over @method, @authority, @path (Web Bot Auth profile).
function signRequest(job) {
  const url = new URL(job.url);
  const components = ["@method", "@authority", "@path"];
  const values = { "@method": job.method, "@authority": url.host.toLowerCase(), "@path": url.pathname || "/" };
  const params =
    `;created=${job.created};expires=${job.expires};keyid="${thumbprint(job.private_jwk.x)}"` +
    `;alg="ed25519";nonce="${job.nonce}";tag="web-bot-auth"`;
  const inner = "(" + components.map((c) => `"${c}"`).join(" ") + ")" + params;
  const base = components.map((c) => `"${c}": ${values[c]}`).concat([`"@signature-params": ${inner}`]).join("\n");
  const key = createPrivateKey({ key: job.private_jwk, format: "jwk" });
  const signature = sign(null, Buffer.from(base, "ascii"), key).toString("base64");
  return { "Signature-Input": `agent=${inner}`, Signature: `agent=:${signature}:` };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  let out;
  if (job.op === "keygen") {
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" });
    out = { private_jwk: jwk, public_key: jwk.x, kid: thumbprint(jwk.x) };
  } else if (job.op === "prove") {
    out = { proof: prove(job.private_jwk, job.challenge) };
  } else if (job.op === "sign-request") {
    out = { headers: signRequest(job) };
  } else {
    throw new Error("unknown op " + job.op);
  }
  process.stdout.write(JSON.stringify(out));
});
