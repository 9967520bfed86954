// A real FHIR client (fhir-kit-client, from npm) drives the running gateway over HTTPS with
// mutual TLS and SMART tokens; every resource the server returns is checked by an independent
// validator (@medplum/core). The hospital's newer EPR (RX8, a source system) writes FHIR
// directly; the child's GP practice (Castle Street, X81001) reads what it is allowed to.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { issueCodes, startGateway, validate, validateDeep } from './support.mjs';

let gateway;
let client;      // the hospital's EPR
let gp;          // Castle Street Surgery's GP system
let otherGp;     // Meadow Lane Medical Centre's
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
// The hospital's own patient numbers: a Patient carrying one is a record the hospital holds,
// which is what lets it read the Patient back (docs/security.md, "Who may see and write what").
const MRN = 'https://acp-gateway.nhs.uk/Id/local/RX8';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

before(async () => {
  gateway = await startGateway({ parties: ['hospital', 'castleStreet', 'meadowLane'] });
  client = gateway.as('hospital').fhirClient();
  gp = gateway.as('castleStreet').fhirClient();
  otherGp = gateway.as('meadowLane').fhirClient();
});
after(async () => {
  assert.equal(await gateway.stop(), 0, 'the gateway stops cleanly on SIGTERM');
});

const patient = {
  resourceType: 'Patient',
  identifier: [{ system: NHS, value: '9998990602' }, { system: MRN, value: 'M900001' }],
  name: [{ use: 'official', family: 'Ahmed', given: ['Zara'] }],
  gender: 'female',
  birthDate: '2017-05-09',
};

// A refusal: the status and the gateway's error codes, the OperationOutcome validated.
async function refused(call, status, code) {
  await assert.rejects(call, (e) => {
    assert.equal(e.response?.status, status, e.message);
    validate(e.response.data);
    assert.deepEqual(issueCodes(e.response.data), [code]);
    return true;
  });
}

test('capability statement is valid R4 and lists the served types', async () => {
  // /metadata needs no token, but the connection still needs a client certificate.
  const cs = await gp.capabilityStatement();
  validate(cs);
  const types = cs.rest[0].resource.map((r) => r.type);
  for (const t of ['Patient', 'Encounter', 'CarePlan', 'Provenance', 'Flag']) assert.ok(types.includes(t), t);
});

test('create, read, update, vread, history, delete', async () => {
  const created = await client.create({ resourceType: 'Patient', body: patient });
  validate(created);
  assert.equal(created.meta.versionId, '1');
  const read = await client.read({ resourceType: 'Patient', id: created.id });
  validate(read);
  assert.equal(read.birthDate, '2017-05-09');
  const updated = await client.update({ resourceType: 'Patient', id: created.id, body: { ...read, gender: 'other' } });
  validate(updated);
  assert.equal(updated.meta.versionId, '2');
  const v1 = await client.vread({ resourceType: 'Patient', id: created.id, version: '1' });
  assert.equal(v1.gender, 'female');
  const history = await client.history({ resourceType: 'Patient', id: created.id });
  validateDeep(history);
  assert.equal(history.entry.length, 2);
  // The child is not registered with a practice here: no GP practice may read it — to it
  // the child is not there at all.
  await refused(gp.read({ resourceType: 'Patient', id: created.id }), 404, 'store.not-found');
  // A Patient is never deleted through the API, not even by an organisation that holds it.
  await refused(client.delete({ resourceType: 'Patient', id: created.id }), 403, 'auth.not-owner');

  // What the hospital wrote about the child it deletes: then it is gone (410).
  const encounter = await client.create({ resourceType: 'Encounter', body: {
    resourceType: 'Encounter', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${created.id}` },
    period: { start: '2026-03-02T10:00:00Z', end: '2026-03-02T10:30:00Z' } } });
  validate(encounter);
  await client.delete({ resourceType: 'Encounter', id: encounter.id });
  await assert.rejects(client.read({ resourceType: 'Encounter', id: encounter.id }), (e) => {
    assert.equal(e.response.status, 410);
    validate(e.response.data);
    return true;
  });
});

test('transaction with placeholders, then the GP query by NHS number', async () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:7a0b6c1e-2d44-4f0e-9d7e-1f2a3b4c5d01', resource: { ...patient,
          identifier: [{ system: NHS, value: '9991579249' }, { system: MRN, value: 'M900002' }],
          generalPractitioner: [{ identifier: { system: ODS, value: 'X81001' }, display: 'Castle Street Surgery' }] },
        request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan',
          category: [{ coding: [{ system: 'http://snomed.info/sct', code: '736366004', display: 'Advance care plan' }] }],
          subject: { reference: 'urn:uuid:7a0b6c1e-2d44-4f0e-9d7e-1f2a3b4c5d01' }, period: { start: '2026-02-01' } },
        request: { method: 'POST', url: 'CarePlan' } },
      { resource: { resourceType: 'Encounter', status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH' },
          subject: { reference: 'urn:uuid:7a0b6c1e-2d44-4f0e-9d7e-1f2a3b4c5d01' },
          period: { start: '2026-03-01T10:00:00Z', end: '2026-03-01T11:00:00Z' } },
        request: { method: 'POST', url: 'Encounter' } },
    ],
  };
  const response = await client.transaction({ body: bundle });
  validateDeep(response);
  assert.equal(response.type, 'transaction-response');
  assert.deepEqual(response.entry.map((e) => e.response.status), ['201 Created', '201 Created', '201 Created']);

  // The child's practice asks.
  const plans = await gp.search({ resourceType: 'CarePlan', searchParams: {
    'subject:Patient.identifier': `${NHS}|9991579249`, status: 'active', _include: 'CarePlan:subject' } });
  validateDeep(plans);
  const modes = plans.entry.map((e) => `${e.resource.resourceType}:${e.search.mode}`).sort();
  assert.deepEqual(modes, ['CarePlan:match', 'Patient:include']);

  const encounters = await gp.search({ resourceType: 'Encounter', searchParams: {
    'patient.identifier': `${NHS}|9991579249`, date: 'ge2025-11-22', _sort: '-date' } });
  validateDeep(encounters);
  assert.equal(encounters.entry.length, 1);

  // Another practice asks the same: nothing of this child comes back.
  const theirs = await otherGp.search({ resourceType: 'CarePlan', searchParams: {
    'subject:Patient.identifier': `${NHS}|9991579249`, _include: 'CarePlan:subject' } });
  validateDeep(theirs);
  assert.deepEqual((theirs.entry ?? []).filter((e) => e.resource.resourceType !== 'OperationOutcome'), []);
});

test('paging with next links and a search by name and birth date', async () => {
  for (let i = 0; i < 5; i++) {
    await client.create({ resourceType: 'Patient', body: { ...patient,
      identifier: [{ system: MRN, value: `M90010${i}` }], name: [{ family: 'Pager', given: [`P${i}`] }] } });
  }
  let page = await client.search({ resourceType: 'Patient', searchParams: { family: 'pager', _count: 2 } });
  const seen = [];
  for (;;) {
    validateDeep(page);
    for (const e of page.entry ?? []) seen.push(e.resource.id);
    const next = await client.nextPage({ bundle: page });
    if (!next) break;
    page = next;
  }
  assert.equal(seen.length, 5);
  assert.equal(new Set(seen).size, 5);
  const byBirth = await client.search({ resourceType: 'Patient', searchParams: { family: 'ahmed', birthdate: '2017-05-09' } });
  validateDeep(byBirth);
  assert.ok(byBirth.entry.length >= 1);
});

test('errors are valid OperationOutcomes', async () => {
  for (const call of [
    () => client.read({ resourceType: 'Patient', id: 'no-such-id' }),
    () => client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'f' } }),
    () => client.search({ resourceType: 'Patient', searchParams: { birthdate: 'not-a-date' } }),
    () => gp.create({ resourceType: 'Patient', body: patient }),  // a GP practice's token reads only
  ]) {
    await assert.rejects(call(), (e) => {
      assert.ok(e.response.status >= 400 && e.response.status < 500, String(e.response.status));
      validate(e.response.data);
      assert.equal(e.response.data.resourceType, 'OperationOutcome');
      return true;
    });
  }
});
