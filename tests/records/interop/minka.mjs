// Minka's own client library (@minka/ledger-sdk) as a stand-in for a Minka user: reads a JSON
// job on stdin, prints JSON on stdout. No vouch code.
//   {"op": "keygen"}                                  -> {"keyPair": {format, public, secret}}
//   {"op": "hash", "data"}                            -> {"hash"}
//   {"op": "sign", "hash", "keyPair", "custom"?}      -> {"proof"}   (signHash; custom omitted
//                                                         from the call when absent from the job)
//   {"op": "verify", "hash", "proof"}                 -> {"valid"}   (verifySignature)
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const crypto = require("@minka/ledger-sdk/crypto/src");

async function run(job) {
  switch (job.op) {
    case "keygen":
      return { keyPair: await crypto.createKeyPair() };
    case "hash":
      return { hash: crypto.createHash(job.data) };
    case "sign": {
      const proof =
        "custom" in job
          ? await crypto.signHash(job.hash, job.keyPair, job.custom)
          : await crypto.signHash(job.hash, job.keyPair);
      return { proof };
    }
    case "verify":
      return { valid: await crypto.verifySignature(job.hash, job.proof) };
    default:
      throw new Error(`unknown op ${job.op}`);
  }
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  process.stdout.write(JSON.stringify(await run(JSON.parse(input))));
});
