// Runs Astral's own verification code (vendored, unmodified, under ./astral) on a job read
// from stdin and prints the result as JSON (JSON.stringify: Infinity and NaN become null).
//
//   {"op": "proof", "body": {proof, options?}}   → the route's schema parse, then verifyProof:
//                                                  {"credibility": …} or {"invalid": message}
//   {"op": "stamp", "body": {stamp}}             → {"result": verifyStamp(stamp)}
//   {"op": "witnesschain-stamp", "key", "now"}   → plugin-witnesschain's test challenge,
//                                                  createWitnessChainStamp, the challenge result
//                                                  embedded, and the plugin's own sign()
//
// The order of operations is the service's (routes/proof.ts, routes/stamp.ts, verifier.ts).
import { ethers } from 'ethers';

// The plugin registry logs to stdout; stdout carries the answer.
console.log = (...args) => console.error(...args);

const input = await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
});
const job = JSON.parse(input);

async function service() {
  const plugins = await import('./astral/service/src/verify/plugins/index.ts');
  plugins.initPluginRegistry();
  const verifier = await import('./astral/service/src/verify/verifier.ts');
  const schemas = await import('./astral/service/src/verify/validation/schemas.ts');
  return { verifier, schemas };
}

let out;
if (job.op === 'proof') {
  const { verifier, schemas } = await service();
  const parsed = schemas.VerifyProofRequestSchema.safeParse(job.body);
  out = parsed.success
    ? { credibility: await verifier.verifyProof(parsed.data.proof) }
    : { invalid: parsed.error.message };
} else if (job.op === 'stamp') {
  const { verifier, schemas } = await service();
  const parsed = schemas.VerifyStampRequestSchema.safeParse(job.body);
  out = parsed.success
    ? { result: await verifier.verifyStamp(parsed.data.stamp) }
    : { invalid: parsed.error.message };
} else if (job.op === 'witnesschain-stamp') {
  const realNow = Date.now;
  Date.now = () => job.now * 1000; // the signature's timestamp, fixed for a reproducible file
  const wc = await import('./astral/plugin-witnesschain/src/index.ts');
  const fixtures = await import(
    './astral/plugin-witnesschain/src/__tests__/fixtures/challenge-result.ts'
  );
  const challengeResult = await fixtures.createChallengeFixture();
  const unsigned = wc.createWitnessChainStamp(wc.signalsFromChallengeResult(challengeResult));
  // As the plugin's own test "create → sign → verify with embedded challenge result" does.
  const withChallenge = { ...unsigned, signals: { ...unsigned.signals, challengeResult } };
  const wallet = new ethers.Wallet(job.key);
  const signer = {
    algorithm: 'secp256k1',
    signer: { scheme: 'eth-address', value: wallet.address },
    sign: (data) => wallet.signMessage(data),
  };
  const plugin = new wc.WitnessChainPlugin();
  const stamp = await plugin.sign(withChallenge, signer);
  const verified = await plugin.verify(stamp);
  Date.now = realNow;
  out = { stamp, pluginVerify: verified };
} else {
  throw new Error(`unknown op ${job.op}`);
}
process.stdout.write(JSON.stringify(out));
