// End to end, scale-out: two gateway processes on one PostgreSQL database (a fresh schema in
// the throw-away cluster `make e2e` starts), serving the same organisations with one client
// registry and one token-signing key, as two instances behind a load balancer would. The
// tests race them: the same hospice export pushed to both at once, the same HL7 message (same
// MSH-10) sent to both, conditional creates on both; each time exactly one copy is stored and
// every sender gets a consistent answer. A Subscription made through one gateway is matched by
// writes through the other, and each notification is delivered once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  connectMllp, freshPostgresStore, prepareParties, repo, startGateway, validateDeep,
} from './support.mjs';

const { Hl7Message } = await import('@medplum/core');
const { Hl7Connection } = await import('@medplum/hl7');

let shared;
let a;
let b;
before(async () => {
  shared = prepareParties(['hospice', 'hospital', 'castleStreet']);
  const storeUrl = freshPostgresStore();
  // One after the other: the first creates the schema (the second would wait for its lock).
  // Both known by one address, as behind a load balancer: a token's audience is its /token.
  const publicBase = 'https://acp-gateway.northshire.example/fhir';
  a = await startGateway({ shared, storeUrl, publicBase });
  b = await startGateway({ shared, storeUrl, publicBase });
});
after(async () => {
  assert.equal(await a?.stop(), 0);
  assert.equal(await b?.stop(), 0);
  shared?.remove();
});

const NHS_QUERY = encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9992530820');
const hospiceExport = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'));

const outcomeOf = (params) => params.parameter.find((x) => x.name === 'record').part
  .find((x) => x.name === 'outcome').valueCode;

test('a token from one gateway is accepted by the other', async () => {
  const token = await a.as('castleStreet').token();
  const res = await b.as('castleStreet').fetch('metadata', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const search = await b.as('castleStreet').fetch(`Patient?identifier=${NHS_QUERY}`,
    { headers: { authorization: `Bearer ${token}` } });
  assert.equal(search.status, 200);
});

test('the same export pushed to both gateways at once is stored once', async () => {
  const push = (gw) => gw.as('hospice').fetch('$ingest/hospice', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: hospiceExport,
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const answers = await Promise.all([push(a), push(b), push(a), push(b), push(a), push(b)]);
  for (const r of answers) assert.equal(r.status, 200, JSON.stringify(r.body));
  const outcomes = answers.map((r) => outcomeOf(r.body)).sort();
  assert.deepEqual(outcomes, ['stored', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);

  // Either gateway answers the GP's query with the one plan.
  for (const gw of [a, b]) {
    const res = await gw.as('castleStreet').fetch(
      `CarePlan?subject:Patient.identifier=${NHS_QUERY}&_include=CarePlan:subject`);
    assert.equal(res.status, 200);
    const bundle = await res.json();
    validateDeep(bundle);
    const types = bundle.entry.map((e) => e.resource.resourceType).sort();
    assert.deepEqual(types, ['CarePlan', 'Patient']);
  }
});

const hl7 = (...segments) => segments.join('\r');
const A01 = hl7(
  'MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS0009001|P|2.4|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20261028093000|||C4567890^Roe^Sarah|20261028091500',
  'PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F|||12 Orchard Way^^Northby^^NB3 4QT',
  'PD1|||Castle Street Surgery^^X81001|G1234567^Smith^Anna',
  'PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19|||||S0098001|||||||||||||||||||||||||20261028091500',
);

async function sendHl7(gw, text) {
  const socket = await connectMllp(gw.as('hospital'));
  const connection = new Hl7Connection(socket);
  try {
    const ack = await connection.sendAndWait(Hl7Message.parse(text));
    return ack.getSegment('MSA');
  } finally {
    connection.close();
  }
}

test('the same HL7 message sent to both gateways at once is stored once and acknowledged by both', async () => {
  const acks = await Promise.all([sendHl7(a, A01), sendHl7(b, A01), sendHl7(a, A01), sendHl7(b, A01)]);
  for (const msa of acks) {
    assert.equal(msa.getField(1).toString(), 'AA');
    assert.equal(msa.getField(2).toString(), 'PAS0009001');
  }
  const res = await b.as('hospital').fetch('Encounter?identifier=S0098001');
  assert.equal(res.status, 200);
  const bundle = await res.json();
  assert.equal(bundle.entry?.length ?? 0, 1, 'one Encounter, whichever gateway stored it');
});

test('conditional creates raced on both gateways make one resource', async () => {
  const body = JSON.stringify({
    resourceType: 'Patient',
    identifier: [{ system: 'https://acp-gateway.nhs.uk/Id/local/RX8', value: 'RACE-1' }],
    name: [{ family: 'Race', given: ['Condition'] }],
  });
  const create = (gw) => gw.as('hospital').fetch('Patient', {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/fhir+json',
      'If-None-Exist': 'identifier=https://acp-gateway.nhs.uk/Id/local/RX8|RACE-1' },
  }).then(async (r) => { await r.arrayBuffer(); return r.status; });
  const statuses = await Promise.all([a, b, a, b, a, b, a, b].map(create));
  assert.deepEqual(statuses.sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
  const found = await (await a.as('hospital').fetch(
    'Patient?identifier=https://acp-gateway.nhs.uk/Id/local/RX8|RACE-1')).json();
  assert.equal(found.entry.length, 1);
});

test('a Subscription made on one gateway is matched on the other, each notification sent once', async () => {
  const received = [];
  let wake = () => {};
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push(body); res.end(); wake(); });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    const sub = await a.as('hospital').fetch('Subscription', {
      method: 'POST', headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Subscription', status: 'requested', reason: 'scale-out test',
        criteria: 'Patient?family=Notified', channel: { type: 'rest-hook', endpoint,
          payload: 'application/fhir+json' } }),
    });
    assert.equal(sub.status, 201, await sub.text());
    // Writes through both gateways: each is one notification, whichever gateway delivers it.
    const write = (gw, i) => gw.as('hospital').fetch('Patient', {
      method: 'POST', headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient',
        identifier: [{ system: 'https://acp-gateway.nhs.uk/Id/local/RX8', value: `NOTIFIED-${i}` }],
        name: [{ family: 'Notified', given: [`N${i}`] }] }),
    }).then(async (r) => { assert.equal(r.status, 201, await r.text()); });
    await Promise.all([write(b, 1), write(a, 2), write(b, 3), write(a, 4)]);
    const until = (n) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${received.length} of ${n} notifications`)), 30000);
      wake = () => { if (received.length >= n) { clearTimeout(timer); resolve(); } };
      wake();
    });
    await until(4);
    // A last write, through the other gateway: once its notification is in, any duplicate of
    // the first four (claimed before it, oldest first) would have been sent too.
    await write(b, 5);
    await until(5);
    const given = received.map((r) => JSON.parse(r).name[0].given[0]).sort();
    assert.deepEqual(given, ['N1', 'N2', 'N3', 'N4', 'N5']);
  } finally {
    receiver.close();
  }
});
