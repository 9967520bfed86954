// SMART Backend Services and mutual TLS with outside clients: Node's own crypto makes each
// client's key and signs its client assertion (ES384, JOSE r||s: support.mjs assertion()),
// Node's TLS presents the organisation's certificate from the development CA, and the
// gateway's access tokens are checked against its published configuration — nothing of the
// gateway's code on the client side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import {
  assertion, certsDir, httpsAgent, issueCodes, repo, startGateway, tlsMaterial, tokenForm, validate,
  validateDeep,
} from './support.mjs';

let gw;
before(async () => {
  gw = await startGateway({ parties: ['hospice', 'castleStreet', 'meadowLane'] });
});
after(async () => { assert.equal(await gw.stop(), 0, 'the gateway stops cleanly on SIGTERM'); });

const NHS_QUERY = encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9992530820');

test('an outside client gets a token with a signed assertion and reads only its own patients', async () => {
  const castleStreet = gw.as('castleStreet');
  const raw = (target, init = {}) => fetch(`${gw.base}/${target}`, { ...init, dispatcher: castleStreet.dispatcher });
  // Open without a token: the SMART configuration names the token endpoint.
  const config = await (await raw('.well-known/smart-configuration')).json();
  assert.equal(config.token_endpoint, gw.tokenEndpoint);
  assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
  // Everything else needs one.
  const none = await raw('Patient');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer /);

  const hospice = await gw.as('hospice').requestToken('system/*.cruds');
  assert.equal(hospice.status, 200, JSON.stringify(hospice.body));
  assert.equal(hospice.body.token_type.toLowerCase(), 'bearer');
  // The hospice pushes its export with its token.
  const exportJson = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8');
  const pushed = await gw.as('hospice').fetch('$ingest/hospice', {
    method: 'POST', body: exportJson,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${hospice.body.access_token}` },
  });
  assert.equal(pushed.status, 200);

  const gp = await castleStreet.requestToken('system/CarePlan.rs system/Patient.rs');
  assert.equal(gp.status, 200, JSON.stringify(gp.body));
  assert.equal(gp.body.scope.split(' ').sort().join(' '), 'system/CarePlan.rs system/Patient.rs');
  const query = `CarePlan?patient.identifier=${NHS_QUERY}&_include=CarePlan:subject`;
  const mine = await raw(query, { headers: { authorization: `Bearer ${gp.body.access_token}` } });
  assert.equal(mine.status, 200);
  const bundle = await mine.json();
  validateDeep(bundle);
  assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'CarePlan'));
  assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'Patient'));
  // The token's scopes: no Encounter read was asked for.
  const encounters = await raw(`Encounter?patient.identifier=${NHS_QUERY}`,
    { headers: { authorization: `Bearer ${gp.body.access_token}` } });
  assert.equal(encounters.status, 403);
  assert.deepEqual(issueCodes(await encounters.json()), ['auth.scope']);

  // Another practice: the child is not its patient — nothing comes back.
  const other = gw.as('meadowLane');
  const theirs = await (await other.fetch(query)).json();
  validateDeep(theirs);
  assert.equal((theirs.entry ?? []).filter((e) => e.resource.resourceType !== 'OperationOutcome').length, 0);

  // The same assertion twice: refused (jti never reused).
  const once = assertion(castleStreet.privateKey, castleStreet.clientId, config.token_endpoint, castleStreet.clientId);
  const first = await raw('token', { method: 'POST', body: tokenForm(once, 'system/Patient.rs') });
  assert.equal(first.status, 200);
  const replay = await raw('token', { method: 'POST', body: tokenForm(once, 'system/Patient.rs') });
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).error, 'invalid_client');
});

test('a token is used only over its own organisation\'s certificate', async () => {
  const token = await gw.as('castleStreet').token();
  // Castle Street's token over Meadow Lane's connection: refused, however valid the token.
  const crossed = await fetch(`${gw.base}/Patient?identifier=${NHS_QUERY}`, {
    headers: { authorization: `Bearer ${token}` }, dispatcher: gw.as('meadowLane').dispatcher,
  });
  assert.equal(crossed.status, 401);
  assert.match(crossed.headers.get('www-authenticate'), /error="invalid_token"/);
  const outcome = await crossed.json();
  validate(outcome);
  // The same token over its own connection is accepted.
  const own = await gw.as('castleStreet').fetch(`Patient?identifier=${NHS_QUERY}`);
  assert.equal(own.status, 200);
  validateDeep(await own.json());
});

test('HTTPS and MLLP refuse a client without a certificate of the trusted CA', async () => {
  const ca = readFileSync(path.join(certsDir(), 'ca.crt'));
  // No client certificate at all.
  const anonymous = httpsAgent({ ca }, 'no certificate');
  await assert.rejects(fetch(`${gw.base}/metadata`, { dispatcher: anonymous }));
  await anonymous.destroy();
  // A certificate for Castle Street from another CA (the build's certs/other-ca).
  const foreign = httpsAgent({ ...tlsMaterial('X81001', path.join(certsDir(), 'other-ca')), ca }, 'other CA');
  await assert.rejects(fetch(`${gw.base}/metadata`, { dispatcher: foreign }));
  await foreign.destroy();
  // MLLP: the handshake completes on the client's side first under TLS 1.3, so the refusal
  // shows as the connection ending without any answer to a message. The same frame over the
  // hospital's certificate is answered (an ACK: MSA).
  const answer = (options) => new Promise((resolve) => {
    const socket = tls.connect({ host: gw.mllp.host, port: gw.mllp.port, ...options }, () => {
      socket.write('\x0bMSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|X1|P|2.4\r\x1c\r');
    });
    let data = '';
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\x1c\r')) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
  assert.equal(await answer({ ca }), '');
  assert.match(await answer(tlsMaterial('RX8')), /\rMSA\|A[AER]\|X1/);
});
