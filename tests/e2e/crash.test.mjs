// Crash safety: the gateway is killed with SIGKILL at random moments of sustained ingest and
// restarted on the same store, again and again (ACP_CRASH_KILLS times: 50 in `make test`, 500
// in `make crash-test`). The store: an SQLite file, or with ACP_CRASH_STORE=postgres a fresh
// schema in the test cluster (crash_pg.test.mjs; ACP_CRASH_PG_KILLS times, 20 in `make test`).
// The load, from outside clients over mutual TLS:
//   - the hospital's feed: MLLP_CONNECTIONS connections, each sending ADT^A01 messages one
//     after another (a child and a spell each); a message not acknowledged when the gateway
//     died is sent again (same MSH-10) after the restart, as an interface engine does;
//   - the hospice: POST /$ingest/hospice, one record per export; an export without an answer is
//     pushed again after the restart;
//   - the hospital's REST client: POST /Patient, one child each (never resent).
// Checked after every restart, before anything is resent: the database's integrity (SQLite's
// integrity_check; on PostgreSQL amcheck's bt_index_check of every index, heapallindexed), and
// that nothing unacknowledged is half-stored. Checked at the end:
//   - every message that got AA, every export that got 200 and every create that got 201 is
//     there exactly once — also those resent after a restart;
//   - (after each restart) nothing unacknowledged is half-stored: an A01's Patient exactly when
//     its Encounter, a hospice record's Patient exactly when its CarePlan; an unanswered create
//     is there once or not;
//   - subscriptions resume: every acknowledged REST create is notified to the subscriber made
//     before the first kill (notifications pending at a kill are sent after the restart);
//   - the audit trail's hash chain verifies.
// docs/reliability.md ("Crash safety") describes the run and its figures.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectMllp, freshPostgresStore, prepareParties, repo, startGateway } from './support.mjs';

const POSTGRES = process.env.ACP_CRASH_STORE === 'postgres';
const KILLS = Number((POSTGRES ? process.env.ACP_CRASH_PG_KILLS : process.env.ACP_CRASH_KILLS) ||
  (POSTGRES ? 20 : 50));
const MLLP_CONNECTIONS = 3;
const LOCAL = 'https://acp-gateway.nhs.uk/Id/local';
const PUBLIC_BASE = 'https://crash.test/fhir';  // one token audience across restarts

let dir;
let shared;
let storeUrl;
let dbFile;
let receiver;
const notified = new Set();  // identifier values of the Patients notified

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'acp-crash-'));
  dbFile = path.join(dir, 'crash.db');
  storeUrl = POSTGRES ? freshPostgresStore() : `sqlite:${dbFile}`;
  shared = prepareParties(['hospital', 'hospice', 'privacyOfficer']);
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      try {
        for (const id of JSON.parse(body).identifier ?? []) notified.add(id.value);
      } catch { /* a notification without a body */ }
      res.end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
let running;  // the gateway of the moment: killed after a failure, so the run ends
after(async () => {
  if (running) await running.kill();
  receiver.close();
  shared.remove();
  rmSync(dir, { recursive: true, force: true });
});

const start = () => startGateway({ shared, storeUrl, publicBase: PUBLIC_BASE,
  args: ['-Dgateway.log.level=warning'] });

// A valid test NHS number (999 prefix, Modulus 11) for the n-th child.
function nhsNumber(n) {
  for (let k = n * 3; ; k++) {
    const d = `999${String(k % 1000000).padStart(6, '0')}`;
    const sum = [...d].reduce((s, c, i) => s + Number(c) * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return d + check;
  }
}

// What was sent, and what the gateway acknowledged.
const a01s = [];      // { mrn, visit, text, acked }
const exports = [];   // { recordId, body, acked }
const creates = [];   // { value, acked }

let serial = 0;
function newA01() {
  const n = ++serial;
  const mrn = `CR${n}`;
  const visit = `CV${n}`;
  const text = [
    `MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|CRASH${n}|P|2.4|||AL|NE||UNICODE UTF-8`,
    'EVN|A01|20261028093000',
    `PID|1||${mrn}^^^RX8^MR||Crash^Child${n}||20150314|F`,
    `PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420|||||||||${visit}|||||||||||||||||||||||||20261028091500`,
  ].join('\r');
  const item = { mrn, visit, text, acked: false };
  a01s.push(item);
  return item;
}

const sample = JSON.parse(readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8'));
function newExport() {
  const n = ++serial;
  const record = JSON.parse(JSON.stringify(sample.records[0]));
  record.recordId = `WB-CR${n}`;
  record.child.nhsNumber = nhsNumber(n);
  record.child.surname = `Crash${n}`;
  record.advanceCarePlan.planId = `ACP-CR${n}`;
  for (const e of record.episodes ?? []) e.episodeId = `E-CR${n}-${e.episodeId}`;
  const item = { recordId: record.recordId,
    body: JSON.stringify({ ...sample, exportId: `WB-CRASH-${n}`, records: [record] }), acked: false };
  exports.push(item);
  return item;
}

// One MLLP connection's sender: resends what is not acknowledged, then sends new messages
// (unless `fresh` is false: the drain at the end), one at a time, until the connection fails
// (the gateway was killed), `stop()` says so, or nothing is left to send.
async function mllpSender(party, stop, fresh = true) {
  let socket;
  try { socket = await connectMllp(party); } catch { return; }
  let buffer = '';
  let waiting = null;
  socket.on('data', (d) => {
    buffer += d.toString('utf8');
    const end = buffer.indexOf('\x1c\r');
    if (end >= 0 && waiting) {
      const ack = buffer.slice(buffer.indexOf('\x0b') + 1, end);
      buffer = buffer.slice(end + 2);
      const w = waiting;
      waiting = null;
      w.resolve(ack);
    }
  });
  const failed = new Promise((resolve) => { socket.on('close', resolve); socket.on('error', resolve); });
  const send = (item) => new Promise((resolve) => {
    waiting = { resolve };
    socket.write(`\x0b${item.text}\x1c\r`);
  });
  try {
    while (!stop()) {
      const item = a01s.find((x) => !x.acked && !x.inFlight) ?? (fresh ? newA01() : null);
      if (!item) return;
      item.inFlight = true;
      const ack = await Promise.race([send(item), failed.then(() => null)]);
      item.inFlight = false;
      if (ack === null) return;
      const msa = ack.split('\r').find((s) => s.startsWith('MSA|'))?.split('|') ?? [];
      assert.equal(msa[1], 'AA', `MSA-1 for ${item.mrn}: ${ack}`);
      item.acked = true;
    }
  } finally {
    socket.destroy();
  }
}

async function hospicePusher(party, stop, fresh = true) {
  while (!stop()) {
    const item = exports.find((x) => !x.acked && !x.inFlight) ?? (fresh ? newExport() : null);
    if (!item) return;
    item.inFlight = true;
    let r;
    try {
      r = await party.fetch('$ingest/hospice', { method: 'POST', body: item.body,
        headers: { 'content-type': 'application/json' } });
      const outcome = await r.json();
      if (r.status !== 200) throw new Error(`push ${item.recordId}: ${r.status}`);
      const rejected = outcome.parameter.find((p) => p.name === 'rejected').valueInteger;
      assert.equal(rejected, 0, `${item.recordId} rejected: ${JSON.stringify(outcome).slice(0, 300)}`);
      item.acked = true;
    } catch (e) {
      if (e instanceof assert.AssertionError || r?.status >= 400) throw e;
      return;  // the connection died with the gateway
    } finally {
      item.inFlight = false;
    }
  }
}

async function restCreator(party, stop) {
  while (!stop()) {
    const item = { value: `CREST${++serial}`, acked: false };
    creates.push(item);
    let r;
    try {
      r = await party.fetch('Patient', { method: 'POST', headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: `${LOCAL}/RX8`, value: item.value }],
          name: [{ family: 'CrashRest' }] }) });
      await r.arrayBuffer();
      assert.equal(r.status, 201, `create ${item.value}`);
      item.acked = true;
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      return;
    }
  }
}

function integrity() {
  if (!POSTGRES)
    return execFileSync('sqlite3', [dbFile, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim();
  // Every B-tree index of the test's schema (the store URL's search_path) checked against its
  // table; any inconsistency is an error, and psql exits non-zero.
  const schema = decodeURIComponent(storeUrl).match(/search_path=(\w+)/)[1];
  const psql = (sql) => execFileSync('psql', [storeUrl, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { encoding: 'utf8' }).trim();
  psql('CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public');
  // Where it is (an earlier run on the same database may have put it elsewhere).
  const at = psql("SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'amcheck'");
  const checked = execFileSync('psql', [storeUrl, '-qAt', '-v', 'ON_ERROR_STOP=1',
    '-c', `SELECT count(${at}.bt_index_check(c.oid, true)) FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = '${schema}' AND a.amname = 'btree'
      AND c.relkind = 'i' AND i.indisvalid AND i.indisready`],
  { encoding: 'utf8' }).trim();
  return Number(checked) > 10 ? 'ok' : `only ${checked} indexes checked`;
}

// Every live resource of `type` matching `query`, through the paging links.
async function all(party, query) {
  const out = [];
  let next = `${query}&_count=1000`;
  while (next) {
    const r = await party.fetch(next);
    assert.equal(r.status, 200, next);
    const bundle = await r.json();
    out.push(...(bundle.entry ?? []).map((e) => e.resource));
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = link ? link.replace(PUBLIC_BASE, '') : null;
  }
  return out;
}

// Before anything is resent: what the gateway did not acknowledge is there whole or not at
// all — an admission's Patient exactly when its Encounter, a hospice record's Patient exactly
// when its CarePlan; a create once or not. (The resends that follow would repair a half.)
async function nothingHalfStored(gw, kill) {
  const hospital = gw.as('hospital');
  const hospice = gw.as('hospice');
  const found = async (party, query) => {
    const r = await party.fetch(query);
    assert.equal(r.status, 200, query);
    return ((await r.json()).entry ?? []).length;
  };
  const id = (system, value) => encodeURIComponent(`${system}|${value}`);
  for (const a of a01s.filter((x) => !x.acked)) {
    const patients = await found(hospital, `Patient?identifier=${id(`${LOCAL}/RX8`, a.mrn)}`);
    const encounters = await found(hospital, `Encounter?identifier=${id(`${LOCAL}/RX8/visit`, a.visit)}`);
    assert.ok(patients <= 1 && patients === encounters,
      `after kill ${kill}, unacknowledged A01 ${a.mrn}: ${patients} Patient(s), ${encounters} Encounter(s)`);
  }
  for (const e of exports.filter((x) => !x.acked)) {
    const patients = await found(hospice, `Patient?identifier=${id(`${LOCAL}/8WB01`, e.recordId)}`);
    const plans = await found(hospice, `CarePlan?identifier=${id(`${LOCAL}/8WB01/plan`, e.recordId.replace('WB-CR', 'ACP-CR'))}`);
    assert.ok(patients <= 1 && patients === plans,
      `after kill ${kill}, unacknowledged export ${e.recordId}: ${patients} Patient(s), ${plans} CarePlan(s)`);
  }
  for (const c of creates.filter((x) => !x.acked && !x.checked)) {
    assert.ok(await found(hospital, `Patient?identifier=${id(`${LOCAL}/RX8`, c.value)}`) <= 1, `create ${c.value}`);
    c.checked = true;
  }
}

const valuesIn = (resources, system) => {
  const counts = new Map();
  for (const r of resources)
    for (const id of r.identifier ?? [])
      if (id.system === system) counts.set(id.value, (counts.get(id.value) ?? 0) + 1);
  return counts;
};

test(`${POSTGRES ? 'PostgreSQL' : 'SQLite'}: SIGKILL ${KILLS} times during sustained ingest: nothing acknowledged lost or doubled, nothing half-stored`, async () => {
  // The subscriber, made before the first kill.
  let gw = running = await start();
  const sub = await gw.as('hospital').fetch('Subscription', {
    method: 'POST', headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Subscription', status: 'requested', reason: 'crash test',
      criteria: 'Patient?family=CrashRest', channel: { type: 'rest-hook',
        endpoint: `http://127.0.0.1:${receiver.address().port}/hook`, payload: 'application/fhir+json' } }),
  });
  assert.equal(sub.status, 201, await sub.text());

  for (let kill = 0; kill < KILLS; kill++) {
    const hospital = gw.as('hospital');
    const hospice = gw.as('hospice');
    await Promise.all([hospital.token(), hospice.token()]);
    let stopping = false;
    const stop = () => stopping;
    const load = Promise.all([
      ...Array.from({ length: MLLP_CONNECTIONS }, () => mllpSender(hospital, stop)),
      hospicePusher(hospice, stop), restCreator(hospital, stop),
    ]);
    // Killed at a random moment of the load: 50 to 450 ms in.
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 400)));
    running = null;
    assert.equal(await gw.kill(), 'SIGKILL');
    stopping = true;
    await load;
    gw = running = await start();
    assert.equal(integrity(), 'ok', `the database is intact after kill ${kill + 1}`);
    await nothingHalfStored(gw, kill + 1);
  }

  // Drain: everything not yet acknowledged is sent again on a live gateway.
  const hospital = gw.as('hospital');
  const hospice = gw.as('hospice');
  const never = () => false;
  await Promise.all([mllpSender(hospital, never, false), hospicePusher(hospice, never, false)]);
  assert.ok(a01s.every((x) => x.acked), 'every A01 acknowledged in the end');
  assert.ok(exports.every((x) => x.acked), 'every export acknowledged in the end');

  try {
    // Exactly once: each child of the feed, each hospice record, each acknowledged create.
    const rx8 = valuesIn(await all(hospital, `Patient?identifier=${encodeURIComponent(`${LOCAL}/RX8|`)}`), `${LOCAL}/RX8`);
    for (const item of a01s) assert.equal(rx8.get(item.mrn), 1, `A01 ${item.mrn}: one Patient`);
    const visits = valuesIn(await all(hospital, `Encounter?identifier=${encodeURIComponent(`${LOCAL}/RX8/visit|`)}`), `${LOCAL}/RX8/visit`);
    for (const item of a01s) assert.equal(visits.get(item.visit), 1, `A01 ${item.mrn}: one Encounter`);
    for (const item of creates.filter((c) => c.acked)) assert.equal(rx8.get(item.value), 1, `create ${item.value}`);
    for (const item of creates.filter((c) => !c.acked))
      assert.ok((rx8.get(item.value) ?? 0) <= 1, `an unanswered create ${item.value} is there once or not at all`);
    const hospicePatients = await all(hospice, `Patient?identifier=${encodeURIComponent(`${LOCAL}/8WB01|`)}`);
    const wb = valuesIn(hospicePatients, `${LOCAL}/8WB01`);
    for (const item of exports) assert.equal(wb.get(item.recordId), 1, `export ${item.recordId}: one Patient`);
    // Nothing half-stored: each hospice Patient has its CarePlan.
    const plans = await all(hospice, `CarePlan?identifier=${encodeURIComponent(`${LOCAL}/8WB01/plan|`)}`);
    const planValues = valuesIn(plans, `${LOCAL}/8WB01/plan`);
    for (const item of exports)
      assert.equal(planValues.get(item.recordId.replace('WB-CR', 'ACP-CR')), 1, `export ${item.recordId}: its CarePlan`);

    // Subscriptions resume: every acknowledged create is notified (at least once).
    const expected = creates.filter((c) => c.acked).map((c) => c.value);
    const deadline = Date.now() + 60000;
    while (expected.some((v) => !notified.has(v)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(expected.filter((v) => !notified.has(v)), [], 'every acknowledged create was notified');

    // The audit trail survived every kill.
    const chain = await gw.as('privacyOfficer').fetch('AuditEvent/$verify-chain');
    assert.equal(chain.status, 200);
    assert.equal((await chain.json()).parameter.find((p) => p.name === 'result').valueBoolean, true);
    console.log(`# crash test (${POSTGRES ? 'PostgreSQL' : 'SQLite'}): ${KILLS} kills; acknowledged ${a01s.length} A01s, ${exports.length} exports, ` +
      `${creates.filter((c) => c.acked).length} of ${creates.length} creates`);
  } finally {
    running = null;
    assert.equal(await gw.stop(), 0);
  }
});
