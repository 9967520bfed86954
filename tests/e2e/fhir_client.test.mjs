// A real FHIR client (fhir-kit-client, from npm) drives the running gateway; every resource
// the server returns is checked by an independent validator (@medplum/core).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from 'fhir-kit-client';
import { startGateway, validate, validateDeep } from './support.mjs';

let gateway;
let client;
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

before(async () => {
  gateway = await startGateway();
  client = new Client({ baseUrl: gateway.base });
});
after(async () => {
  assert.equal(await gateway.stop(), 0, 'the gateway stops cleanly on SIGTERM');
});

const patient = {
  resourceType: 'Patient',
  identifier: [{ system: NHS, value: '9998990602' }],
  name: [{ use: 'official', family: 'Ahmed', given: ['Zara'] }],
  gender: 'female',
  birthDate: '2017-05-09',
};

test('capability statement is valid R4 and lists the served types', async () => {
  const cs = await client.capabilityStatement();
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
  await client.delete({ resourceType: 'Patient', id: created.id });
  await assert.rejects(client.read({ resourceType: 'Patient', id: created.id }), (e) => {
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
      { fullUrl: 'urn:uuid:7a0b6c1e-2d44-4f0e-9d7e-1f2a3b4c5d01', resource: { ...patient, identifier: [{ system: NHS, value: '9991579249' }] },
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

  const plans = await client.search({ resourceType: 'CarePlan', searchParams: {
    'subject:Patient.identifier': `${NHS}|9991579249`, status: 'active', _include: 'CarePlan:subject' } });
  validateDeep(plans);
  const modes = plans.entry.map((e) => `${e.resource.resourceType}:${e.search.mode}`).sort();
  assert.deepEqual(modes, ['CarePlan:match', 'Patient:include']);

  const encounters = await client.search({ resourceType: 'Encounter', searchParams: {
    'patient.identifier': `${NHS}|9991579249`, date: 'ge2025-11-22', _sort: '-date' } });
  validateDeep(encounters);
  assert.equal(encounters.entry.length, 1);
});

test('paging with next links and a search by name and birth date', async () => {
  for (let i = 0; i < 5; i++) {
    await client.create({ resourceType: 'Patient', body: { ...patient, name: [{ family: 'Pager', given: [`P${i}`] }] } });
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
  ]) {
    await assert.rejects(call(), (e) => {
      assert.ok(e.response.status >= 400 && e.response.status < 500, String(e.response.status));
      validate(e.response.data);
      assert.equal(e.response.data.resourceType, 'OperationOutcome');
      return true;
    });
  }
});
