// SMART Backend Services with an outside client: Node's own crypto makes the key, signs the
// client assertion (ES384, JOSE r||s) and checks the gateway's access token against the
// gateway's published configuration — nothing of the gateway's code on the client side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repo, startGateway, validateDeep } from './support.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function assertion(privateKey, clientId, aud, kid) {
  const header = { alg: 'ES384', typ: 'JWT', kid };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: clientId, sub: clientId, aud, jti: randomUUID(), exp: now + 240, iat: now };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signer = createSign('SHA384');
  signer.update(input);
  const signature = signer.sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

test('an outside client gets a token with a signed assertion and reads only its own patients', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'gp-key-1', use: 'sig', alg: 'ES384' };
  const dir = mkdtempSync(path.join(tmpdir(), 'acp-smart-'));
  const registry = path.join(dir, 'clients.json');
  const client = (clientId, organisation, role, scopes) =>
    ({ clientId, organisation, role, scopes, jwks: { keys: [jwk] } });
  writeFileSync(registry, JSON.stringify({ clients: [
    client('castle-street-gp', 'X81001', 'gp-practice', 'system/Patient.rs system/CarePlan.rs'),
    client('meadow-lane-gp', 'X81002', 'gp-practice', 'system/Patient.rs system/CarePlan.rs'),
    client('willowbrook', '8WB01', 'source-system', 'system/*.cruds'),
  ] }));
  const baseUrl = 'http://gateway.test/fhir';
  const gw = await startGateway(['-Dgateway.auth.mode=smart', `-Dgateway.auth.clients=${registry}`,
    `-Dgateway.http.baseUrl=${baseUrl}`]);
  try {
    // Open without a token: the SMART configuration names the token endpoint.
    const config = await (await fetch(`${gw.base}/.well-known/smart-configuration`)).json();
    assert.equal(config.token_endpoint, `${baseUrl}/token`);
    assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
    // Everything else needs one.
    const none = await fetch(`${gw.base}/Patient`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /^Bearer /);

    const token = async (clientId, scope) => {
      const r = await fetch(`${gw.base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials', scope,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion(privateKey, clientId, config.token_endpoint, 'gp-key-1'),
        }),
      });
      return { status: r.status, body: await r.json() };
    };
    const hospice = await token('willowbrook', 'system/*.cruds');
    assert.equal(hospice.status, 200, JSON.stringify(hospice.body));
    assert.equal(hospice.body.token_type.toLowerCase(), 'bearer');
    // The hospice pushes its export with its token.
    const exportJson = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8');
    const pushed = await fetch(`${gw.base}/$ingest/hospice`, {
      method: 'POST', body: exportJson,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hospice.body.access_token}` },
    });
    assert.equal(pushed.status, 200);

    const gp = await token('castle-street-gp', 'system/CarePlan.rs system/Patient.rs');
    assert.equal(gp.status, 200, JSON.stringify(gp.body));
    const query = `${gw.base}/CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&_include=CarePlan:subject`;
    const mine = await fetch(query, { headers: { authorization: `Bearer ${gp.body.access_token}` } });
    assert.equal(mine.status, 200);
    const bundle = await mine.json();
    validateDeep(bundle);
    assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'CarePlan'));
    assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'Patient'));

    // Another practice: the child is not its patient — nothing comes back.
    const other = await token('meadow-lane-gp', 'system/CarePlan.rs system/Patient.rs');
    const theirs = await (await fetch(query, { headers: { authorization: `Bearer ${other.body.access_token}` } })).json();
    assert.equal((theirs.entry ?? []).filter((e) => e.resource.resourceType !== 'OperationOutcome').length, 0);

    // The same assertion twice: refused (jti never reused).
    const once = assertion(privateKey, 'castle-street-gp', config.token_endpoint, 'gp-key-1');
    const form = (a) => new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
    const first = await fetch(`${gw.base}/token`, { method: 'POST', body: form(once) });
    assert.equal(first.status, 200);
    const replay = await fetch(`${gw.base}/token`, { method: 'POST', body: form(once) });
    assert.equal(replay.status, 400);
    assert.equal((await replay.json()).error, 'invalid_client');
  } finally {
    await gw.stop();
  }
});
