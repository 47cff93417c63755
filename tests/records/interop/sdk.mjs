// Minka's own HTTP client (@minka/ledger-sdk's LedgerSdk) against a live vouch, unchanged: it
// authenticates with its signer JWT and, with verifyResponseProofs, checks every response's
// proofs — errors included. Reads a JSON job on stdin, prints JSON results on stdout.
//   {server, ledger, keyPair, systemPublic, read, create: {handle, keyPair}, missing}
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { LedgerSdk } = require("@minka/ledger-sdk");

async function outcome(promise) {
  try {
    const response = await promise;
    return { ok: true, status: response.response?.status, hash: response.hash, data: response.response?.data };
  } catch (error) {
    return { ok: false, reason: error.reason, detail: error.detail };
  }
}

async function run(job) {
  const options = {
    server: job.server,
    ledger: job.ledger,
    secure: { iss: "vouch-interop", aud: job.ledger, exp: 60, keyPair: job.keyPair },
    timeout: 20000,
  };
  const plain = new LedgerSdk(options);
  const verifying = new LedgerSdk({
    ...options,
    verifyResponseProofs: true,
    signer: { format: "ed25519-raw", public: job.systemPublic },
  });
  const results = {};
  results.read = await outcome(verifying.signer.read(job.read));
  const created = verifying.signer
    .init()
    .data({ handle: job.create.handle, public: job.create.keyPair.public, format: "ed25519-raw" })
    .hash()
    .sign([{ keyPair: job.create.keyPair }])
    .send();
  results.create = await outcome(created);
  results.missing = await outcome(verifying.signer.read(job.missing));
  results.missingPlain = await outcome(plain.signer.read(job.missing));
  results.list = await outcome(verifying.signer.list({ page: { index: 0, limit: 5 } }));
  const stranger = new LedgerSdk({
    ...options,
    secure: { ...options.secure, keyPair: job.create.stranger },
  });
  results.stranger = await outcome(stranger.signer.read(job.read));
  return results;
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  process.stdout.write(JSON.stringify(await run(JSON.parse(input))));
});
