// The SMART backend-services client of bench/run-tls.sh (make bench-tls): its keys, the
// gateway's client registry and token key, and signed client assertions (RFC 7523
// private_key_jwt, as tests/e2e/smart.test.mjs signs them) — Node's own crypto only, nothing
// of the gateway's code.
//
//   node bench/smart_client.mjs setup DIR CLIENT_ID ODS
//       writes, in DIR (created; files that exist are kept, so a run can be repeated):
//         client-es384.pem  the client's EC P-384 private key (PKCS#8)
//         client-rs384.pem  the client's RSA 2048 private key (PKCS#8)
//         token-key.pem     the gateway's token-signing key, EC P-384 (gateway.auth.tokenKey):
//                           access tokens ES384
//         token-key-rsa.pem the same, RSA 2048: access tokens RS384
//         clients.json      the registry (gateway.auth.clients): one gp-practice client of
//                           organisation ODS, scope system/Patient.rs, both public keys as an
//                           inline JWK Set (kid "es384" and "rs384")
//   node bench/smart_client.mjs forms DIR CLIENT_ID ALG AUD COUNT [SCOPE]
//       prints COUNT POST /token form bodies (application/x-www-form-urlencoded), one a
//       line: grant_type=client_credentials, the scope (default system/Patient.rs) and a
//       fresh client assertion signed with ALG (ES384 or RS384) — aud AUD, iss = sub =
//       CLIENT_ID, a random jti (never reused), iat now, exp now + 280 s (the gateway accepts
//       at most 300 s ahead). Generate them right before they are sent.
// Exit codes: 0 ok, 64 bad arguments.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const usage = () => {
  process.stderr.write('usage: smart_client.mjs setup DIR CLIENT_ID ODS\n' +
                       '       smart_client.mjs forms DIR CLIENT_ID ES384|RS384 AUD COUNT [SCOPE]\n');
  process.exit(64);
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const pkcs8 = (key) => key.export({ type: 'pkcs8', format: 'pem' });

function keyFile(file, make) {
  if (!existsSync(file)) writeFileSync(file, pkcs8(make().privateKey), { mode: 0o600 });
  return createPrivateKey(readFileSync(file));
}

function setup(dir, clientId, ods) {
  mkdirSync(dir, { recursive: true });
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const es = keyFile(path.join(dir, 'client-es384.pem'), ec);
  const rs = keyFile(path.join(dir, 'client-rs384.pem'),
                     () => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  keyFile(path.join(dir, 'token-key.pem'), ec);
  keyFile(path.join(dir, 'token-key-rsa.pem'), () => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const jwk = (key, kid, alg) => ({ ...createPublicKey(key).export({ format: 'jwk' }), kid, alg, use: 'sig' });
  const registry = {
    clients: [{
      clientId, name: 'bench-tls GP system', organisation: ods, role: 'gp-practice',
      scopes: 'system/Patient.rs',
      jwks: { keys: [jwk(es, 'es384', 'ES384'), jwk(rs, 'rs384', 'RS384')] },
    }],
  };
  writeFileSync(path.join(dir, 'clients.json'), JSON.stringify(registry, null, 2) + '\n');
}

function forms(dir, clientId, alg, aud, count, scope) {
  const file = { ES384: 'client-es384.pem', RS384: 'client-rs384.pem' }[alg];
  if (!file) usage();
  const key = createPrivateKey(readFileSync(path.join(dir, file)));
  const header = b64url(JSON.stringify({ alg, typ: 'JWT', kid: alg.toLowerCase() }));
  const fixed = 'grant_type=client_credentials&scope=' + encodeURIComponent(scope) +
                '&client_assertion_type=' +
                encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer') +
                '&client_assertion=';
  const options = alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  const lines = [];
  for (let i = 0; i < count; ++i) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: clientId, sub: clientId, aud, jti: randomUUID(), iat: now, exp: now + 280 };
    const input = `${header}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha384', Buffer.from(input), options);
    lines.push(`${fixed}${input}.${b64url(signature)}`);  // base64url needs no form escaping
    if (lines.length === 4096) {
      process.stdout.write(lines.join('\n') + '\n');
      lines.length = 0;
    }
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
}

const [command, ...args] = process.argv.slice(2);
if (command === 'setup' && args.length === 3) {
  setup(...args);
} else if (command === 'forms' && (args.length === 5 || args.length === 6)) {
  const count = Number(args[4]);
  if (!Number.isInteger(count) || count < 1) usage();
  forms(args[0], args[1], args[2], args[3], count, args[5] ?? 'system/Patient.rs');
} else {
  usage();
}
