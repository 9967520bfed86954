// End to end over MLLP with TLS: a real HL7 v2 MLLP client (@medplum/hl7's Hl7Connection,
// from npm) sends the hospital's example messages (../shared/partners/acute-hl7v2.md) to the
// running gateway's MLLP port over a TLS connection made with the hospital's client
// certificate (RX8: the gateway requires MSH-4 to be the certificate's organisation). The
// library's Hl7Client dials plain TCP only (net.connect), so the connection is opened with
// tls.connect and handed to Hl7Connection, which frames MLLP over any socket. Every ACK is
// checked (MSA-1, MSA-2 = the message's MSH-10), and what was stored is read back through FHIR
// search over HTTPS — by the hospital, which holds the record — and checked by the
// independent R4 validator. The last test adds the community trust's export and the hospice
// export for the same child (each pushed with its own certificate and token) and reads the
// three sources back by NHS number as the child's GP practice does. (The hospice export's own
// outcome and read-back are covered by ingest.test.mjs.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectMllp, issueCodes, repo, startGateway, validate, validateDeep } from './support.mjs';

// Imported after support.mjs, which gives Node 20 the global WebSocket @medplum/core expects.
const { Hl7Message } = await import('@medplum/core');
const { Hl7Connection } = await import('@medplum/hl7');

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const NHS_NUMBER = '9992530820';

// The interface document's three examples; segments end in CR on the wire.
const hl7 = (...segments) => segments.join('\r');
const A01 = hl7(
  'MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS0001234|P|2.4|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20261028093000|||C4567890^Roe^Sarah|20261028091500',
  'PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss~Hartley^Millie^^^^^P||20150314|F|||12 Orchard Way^^Northby^^NB3 4QT||07700 900123|||||||||||||||||01',
  'PD1|||Castle Street Surgery^^X81001|G1234567^Smith^Anna',
  'NK1|1|Hartley^Claire|MTH|12 Orchard Way^^Northby^^NB3 4QT|07700 900123',
  'PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19|||||S0098877|||||||||||||||||||||||||20261028091500',
);
const A03 = hl7(
  'MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261102161000||ADT^A03^ADT_A03|PAS0001301|P|2.4|||AL|NE||UNICODE UTF-8',
  'EVN|A03|20261102161000',
  'PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F',
  'PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19|||||S0098877|||||||||||||||||19|HOSPICE|||||||20261028091500|20261102160000',
);
const ORU = hl7(
  'MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|20261101120500||ORU^R01^ORU_R01|EPR0088812|P|2.4|||AL|NE||UNICODE UTF-8',
  'PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F',
  'OBR|1||RSP-20441|1382601000000107^ReSPECT form^SCT|||20261101113000||||||||||||||||||F',
  'OBX|1|CWE|CPR^CPR recommendation^L||MODIFIED^Modified CPR^L||||||F|||||C4567890^Roe^Sarah',
  'OBX|2|CWE|PPD^Preferred place of death^L||HOSPICE^Hospice^L||||||F',
  'OBX|3|TX|ESCAL^Treatment escalation^L||Ward-based care and non-invasive ventilation; no PICU transfer.||||||F',
  'OBX|4|DT|REVIEW^Review date^L||20270201||||||F',
  'OBX|5|NM|PRIORITY^Patient priority^L||8||||||F',
);
// Understood but not usable: an admission whose PID-3 has no hospital number (type MR).
const A01_NO_MRN = hl7(
  'MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028100000||ADT^A01^ADT_A01|PAS0009001|P|2.4|||AL|NE||UNICODE UTF-8',
  'EVN|A01|20261028100000',
  'PID|1||9992530820^^^NHS^NH||Hartley^Amelia^Rose^^Miss||20150314|F',
  'PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420|||||||||S0098999',
);
// Malformed: MSH-11 (processing id) and MSH-12 (version) are missing. MSH-10 is there, so
// the client can still match the ACK to it.
const MALFORMED = hl7(
  'MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028100500||ADT^A01^ADT_A01|PAS0009002',
  'EVN|A01|20261028100500',
  'PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia',
);

let gw;
let hospital;    // the hospital's integration engine: MLLP sender, FHIR reader of its records
let gp;          // Castle Street Surgery, the child's practice (PD1-3)
let client;      // the hospital's MLLP connection
const connections = [];
before(async () => {
  gw = await startGateway({ parties: ['hospital', 'community', 'hospice', 'castleStreet', 'serviceOperator'] });
  hospital = gw.as('hospital');
  gp = gw.as('castleStreet');
  client = await mllpConnection(hospital);
});
after(async () => {
  for (const c of connections) await c.close();
  assert.equal(await gw.stop(), 0, 'the gateway stops cleanly on SIGTERM');
});

async function mllpConnection(party) {
  const connection = new Hl7Connection(await connectMllp(party));
  connections.push(connection);
  return connection;
}

// Sends one message on a connection (the hospital's unless given) and waits for its ACK (10 s
// at most). The deadline is ours, not sendAndWait's timeoutMs: @medplum/hl7 5.0.10 leaves that
// timer running after the ACK arrives, which keeps the test process alive for the rest of it.
async function send(text, connection = client) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ACK for ${controlIdOf(text)} within 10 s`)), 10000);
  });
  const ack = await Promise.race([connection.sendAndWait(Hl7Message.parse(text)), deadline])
    .finally(() => clearTimeout(timer));
  const msa = ack.getSegment('MSA');
  assert.ok(msa, `an ACK with an MSA segment: ${ack.toString()}`);
  assert.equal(ack.getSegment('MSH').getField(9).getComponent(1), 'ACK');
  return {
    code: msa.getField(1).toString(),
    controlId: msa.getField(2).toString(),
    err: ack.getAllSegments('ERR').map((s) => s.toString()),
  };
}

function controlIdOf(text) {
  return text.split('\r')[0].split('|')[9];
}

async function expectAck(text, code, connection = client) {
  const ack = await send(text, connection);
  assert.equal(ack.code, code, `MSA-1 for ${controlIdOf(text)}`);
  assert.equal(ack.controlId, controlIdOf(text), 'MSA-2 is the MSH-10 of the message');
  return ack;
}

// GET as `party` (the hospital unless given): 200, and valid R4 throughout.
async function getJson(pathAndQuery, party = hospital) {
  const res = await party.fetch(pathAndQuery);
  assert.equal(res.status, 200, `GET ${pathAndQuery}`);
  const body = await res.json();
  validateDeep(body);
  return body;
}

// The record ids of the open ingest failures — the service operator's to review and replay.
async function openFailures() {
  const res = await gw.as('serviceOperator').fetch('$ingest/failures?status=open');
  assert.equal(res.status, 200);
  const body = await res.json();
  validate(body);
  return (body.parameter ?? []).map((f) => f.part.find((p) => p.name === 'recordId')?.valueString);
}

const resources = (bundle) => (bundle.entry ?? []).map((e) => e.resource);
const byNhs = (type) => `${type}?subject:Patient.identifier=${encodeURIComponent(`${NHS}|${NHS_NUMBER}`)}`;

// The acute Patient (the only one until the last test) and its history length.
let patientId;
async function versions(type, id) {
  const history = await getJson(`${type}/${id}/_history`);
  return history.entry.length;
}

test('ADT^A01 over MLLP: AA once stored; the Patient is found by NHS number', async () => {
  await expectAck(A01, 'AA');
  const found = resources(await getJson(`Patient?identifier=${encodeURIComponent(`${NHS}|${NHS_NUMBER}`)}`));
  assert.equal(found.length, 1);
  const p = found[0];
  patientId = p.id;
  assert.deepEqual(p.identifier.map((i) => i.value).sort(), [NHS_NUMBER, 'M123456']);
  assert.equal(p.birthDate, '2015-03-14');
  assert.equal(p.gender, 'female');
  assert.equal(p.name.find((n) => n.use === 'official').family, 'Hartley');
  assert.equal(p.name.find((n) => n.use === 'usual').given[0], 'Millie');
});

test('the same A01 resent: AA again, and no new version of the Patient or the Encounter', async () => {
  const encounters = resources(await getJson(`Encounter?subject=Patient/${patientId}`));
  assert.equal(encounters.length, 1);
  const patientBefore = await versions('Patient', patientId);
  const encounterBefore = await versions('Encounter', encounters[0].id);
  await expectAck(A01, 'AA');
  assert.equal(await versions('Patient', patientId), patientBefore);
  assert.equal(await versions('Encounter', encounters[0].id), encounterBefore);
});

test('ADT^A03 and the ReSPECT ORU^R01: AA; the spell is finished, the CarePlan holds the CPR decision', async () => {
  await expectAck(A03, 'AA');
  await expectAck(ORU, 'AA');

  const encounters = resources(await getJson(`Encounter?subject=Patient/${patientId}`));
  assert.equal(encounters.length, 1, 'A01 and A03 of one visit number are one Encounter');
  const e = encounters[0];
  assert.equal(e.status, 'finished');
  assert.deepEqual(e.identifier.map((i) => i.value), ['S0098877']);
  assert.equal(e.period.start, '2026-10-28T09:15:00+00:00');
  assert.equal(e.period.end, '2026-11-02T16:00:00+00:00', 'the discharge time of the A03 (PV1-45)');
  assert.ok(e.hospitalization?.dischargeDisposition, 'the discharge destination is kept');

  const plans = resources(await getJson(`CarePlan?subject=Patient/${patientId}`));
  assert.equal(plans.length, 1);
  const plan = plans[0];
  assert.ok(plan.category.some((c) => c.coding.some((x) => x.code === '1382601000000107')), 'ReSPECT form category');
  assert.equal(plan.identifier[0].value, 'RSP-20441');
  assert.equal(plan.created, '2026-11-01T11:30:00+00:00');
  const cpr = plan.activity.find((a) => a.detail.code.coding.some((c) => c.code === 'resuscitation'));
  assert.ok(cpr, 'a resuscitation (CPR) activity');
  const decision = cpr.detail.extension.find((x) => x.url.endsWith('/acp-decision-value')).valueCodeableConcept;
  assert.equal(decision.coding[0].code, 'modified-cpr');
  assert.ok(plan.activity.some((a) => a.detail.code.coding.some((c) => c.code === 'treatment-escalation')
    && a.detail.description.includes('no PICU transfer')));
});

test('an A01 without a hospital number is answered AE with an ERR segment and stores nothing', async () => {
  const before = resources(await getJson('Encounter')).length;
  const ack = await expectAck(A01_NO_MRN, 'AE');
  assert.ok(ack.err.length >= 1 && ack.err[0].includes('PID^1^3'), `ERR at PID-3: ${ack.err}`);
  assert.equal(resources(await getJson('Encounter')).length, before);
  assert.ok((await openFailures()).includes('PAS0009001'), 'kept as a failure for replay');
});

test('a malformed message is answered AR, and the connection stays usable', async () => {
  const ack = await expectAck(MALFORMED, 'AR');
  assert.ok(ack.err.some((s) => s.includes('MSH^1^12')), `ERR at MSH-12: ${ack.err}`);
  await expectAck(A03, 'AA');  // resent on the same connection: acknowledged, not applied twice
  const e = resources(await getJson(`Encounter?subject=Patient/${patientId}`))[0];
  assert.equal(e.status, 'finished');
});

test('hospital, community and hospice records of the same child: one Patient with each source\'s number, found by NHS number', async () => {
  // Each source pushes its own export with its own certificate and token.
  const post = (partner, type, file) => gw.as(partner).fetch(`$ingest/${partner}`, {
    method: 'POST', headers: { 'Content-Type': type }, body: readFileSync(path.join(repo, file)),
  });
  const outcome = async (res) => {
    assert.equal(res.status, 200);
    const body = await res.json();
    validate(body);
    const record = body.parameter.find((x) => x.name === 'record');
    return {
      result: record.part.find((x) => x.name === 'outcome').valueCode,
      refs: record.part.filter((x) => x.name === 'resource').map((x) => x.valueReference.reference),
    };
  };
  const community = await outcome(await post('community', 'application/xml', 'mappings/community/samples/example.xml'));
  assert.equal(community.result, 'stored');
  for (const ref of community.refs) {
    const res = await gw.as('community').fetch(ref);
    assert.equal(res.status, 200, ref);
    validate(await res.json());
  }
  assert.equal((await outcome(await post('community', 'application/xml', 'mappings/community/samples/example.xml'))).result,
    'unchanged');
  assert.equal((await outcome(await post('hospice', 'application/json', 'mappings/hospice/samples/example-1.2.json'))).result,
    'stored');

  // From here on the child's GP practice reads, as its GP system does.
  const patients = resources(await getJson(`Patient?identifier=${encodeURIComponent(`${NHS}|${NHS_NUMBER}`)}`, gp));
  // One child, one Patient: it carries each source's local number under …/Id/local/<ODS code>.
  assert.equal(patients.length, 1);
  const sources = patients[0].identifier.filter((i) => i.system !== NHS).map((i) => i.system.split('/').pop());
  assert.deepEqual(sources.sort(), ['8WB01', 'RX8', 'RX9']);

  // The community plan and contact, through the chained search a GP system uses.
  const plans = resources(await getJson(byNhs('CarePlan'), gp));
  assert.equal(plans.length, 3, 'hospital ReSPECT form, hospice plan and community plan');
  const communityPlan = plans.find((p) => p.identifier?.[0]?.value === 'CP-5512');
  assert.ok(communityPlan, 'the community CarePlan CP-5512');
  const cpr = communityPlan.activity.find((a) => a.detail.code.coding.some((c) => c.code === 'resuscitation'));
  assert.equal(cpr.detail.extension[0].valueCodeableConcept.coding[0].code, 'modified-cpr');
  const encounters = resources(await getJson(byNhs('Encounter'), gp));
  const contact = encounters.find((e) => e.identifier?.[0]?.value === 'V-300145');
  assert.ok(contact, 'the community contact V-300145');
  assert.equal(contact.status, 'finished');
  assert.equal(contact.period.start, '2026-10-28T14:00:00Z');
  assert.equal(contact.class.code, 'HH');

  // The consolidated plan a GP system asks for: one answer per decision, across the three.
  const summary = await getJson(`Patient/$acp-summary?identifier=${encodeURIComponent(`${NHS}|${NHS_NUMBER}`)}`, gp);
  assert.equal(summary.resourceType, 'Parameters');
  assert.equal(summary.parameter[0].valueReference.reference, `Patient/${patients[0].id}`);
  const items = summary.parameter.filter((p) => p.name === 'item');
  const item = (code) => items.find((p) => p.part[0].valueCoding.code === code);
  const cprNow = item('resuscitation').part.find((p) => p.name === 'current');
  assert.ok(cprNow, 'a current resuscitation decision');
  const from = cprNow.part.find((p) => p.name === 'source').valueIdentifier.value;
  assert.ok(['8WB01', 'RX8', 'RX9'].includes(from), from);
  assert.ok(cprNow.part.find((p) => p.name === 'carePlan').valueReference.reference.includes('/_history/'));
  // Every differing value is counted, and a CPR disagreement is a Flag on the child.
  const differing = items.filter((p) => p.part.some((x) => x.name === 'differs')).length;
  assert.equal(summary.parameter.find((p) => p.name === 'disagreements').valueInteger, differing);
  const flags = resources(await getJson(`Flag?patient=Patient/${patients[0].id}`, gp));
  const cprFlag = flags.find((f) => f.code.coding[0].code === 'resuscitation-disagreement' && f.status === 'active');
  const cprDiffers = item('resuscitation').part.some((p) => p.name === 'differs');
  assert.equal(Boolean(cprFlag), cprDiffers, 'a CPR Flag exactly when the sources disagree on CPR');
});

test('a sender writes only as its own organisation: MSH-4 must be its certificate\'s', async () => {
  const encountersBefore = resources(await getJson('Encounter')).length;
  const failuresBefore = await openFailures();
  assert.ok(failuresBefore.length >= 1, 'the failures of the earlier tests are listed');
  // The hospital's connection, a message claiming to come from the community trust (RX9).
  const claimed = A01.replace('|PAS|RX8|', '|PAS|RX9|').replace('PAS0001234', 'PAS0009101')
    .replace('S0098877', 'S0098101');
  const wrongFacility = await expectAck(claimed, 'AR');
  assert.ok(wrongFacility.err.some((s) => s.includes('MSH^1^4')), `ERR at MSH-4: ${wrongFacility.err}`);
  // A GP practice's certificate sending the hospital's messages.
  const gpConnection = await mllpConnection(gp);
  const fromGp = await expectAck(A01.replace('PAS0001234', 'PAS0009102').replace('S0098877', 'S0098102'), 'AR', gpConnection);
  assert.ok(fromGp.err.some((s) => s.includes('MSH^1^4')), `ERR at MSH-4: ${fromGp.err}`);
  // Nothing stored, nothing kept for replay.
  assert.equal(resources(await getJson('Encounter')).length, encountersBefore);
  assert.deepEqual(await openFailures(), failuresBefore);
});

test('the ingest failures are the service operator\'s: a GP practice is refused', async () => {
  const byGp = await gp.fetch('$ingest/failures');
  assert.equal(byGp.status, 403);
  const outcome = await byGp.json();
  validate(outcome);
  assert.deepEqual(issueCodes(outcome), ['auth.role']);
});
