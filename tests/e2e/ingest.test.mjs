// End to end: partner pushes over HTTPS (mutual TLS, the hospice's certificate and SMART
// token) to the running gateway, the outcome read back, and every resource the mapping
// produced checked by an independent R4 validator. The child's GP practice then finds the plan
// by NHS number; another practice and another organisation's push are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueCodes, repo, startGateway, validate, validateDeep } from './support.mjs';

let gw;
let hospiceSystem;
before(async () => {
  gw = await startGateway({ parties: ['hospice', 'community', 'castleStreet', 'meadowLane'] });
  hospiceSystem = gw.as('hospice');
});
after(async () => { assert.equal(await gw.stop(), 0, 'the gateway stops cleanly on SIGTERM'); });

const hospice = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'));
const NHS_QUERY = encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9992530820');

async function json(res) {
  const body = await res.json();
  validate(body);
  return body;
}

const push = (party) => party.fetch('$ingest/hospice', {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: hospice,
});

test('hospice export: stored, then unchanged, then found by NHS number by the child\'s GP', async () => {
  const first = await json(await push(hospiceSystem));
  const outcome = (p) => p.parameter.find((x) => x.name === 'record').part
    .find((x) => x.name === 'outcome').valueCode;
  assert.equal(outcome(first), 'stored');
  // Every resource the record produced reads back valid R4, for the hospice that sent it.
  const refs = first.parameter.find((x) => x.name === 'record').part
    .filter((x) => x.name === 'resource').map((x) => x.valueReference.reference);
  assert.equal(refs.length, 7);
  for (const ref of refs) {
    const res = await hospiceSystem.fetch(ref);
    assert.equal(res.status, 200, ref);
    validate(await res.json());
  }
  assert.equal(outcome(await json(await push(hospiceSystem))), 'unchanged');

  // The export names Castle Street Surgery (X81001) as the child's practice: its GP system
  // asks by NHS number.
  const query = `CarePlan?subject:Patient.identifier=${NHS_QUERY}&_include=CarePlan:subject` +
    '&_revinclude=Provenance:target';
  const search = await gw.as('castleStreet').fetch(query);
  assert.equal(search.status, 200);
  const bundle = await search.json();
  validateDeep(bundle);
  const types = bundle.entry.map((e) => e.resource.resourceType).sort();
  assert.deepEqual(types, ['CarePlan', 'Patient', 'Provenance']);
  const plan = bundle.entry.find((e) => e.resource.resourceType === 'CarePlan').resource;
  assert.ok(!plan.meta?.security?.some((s) => s.code === 'REDACTED'), 'consented: shared in full');

  // Another practice: not the child's — the search finds nothing, a read is refused.
  const other = gw.as('meadowLane');
  const theirs = await other.fetch(query);
  assert.equal(theirs.status, 200);
  const theirBundle = await theirs.json();
  validateDeep(theirBundle);
  assert.deepEqual((theirBundle.entry ?? []).filter((e) => e.resource.resourceType !== 'OperationOutcome'), []);
  const patientRef = refs.find((r) => r.startsWith('Patient/'));
  const refused = await other.fetch(patientRef);
  assert.equal(refused.status, 404);  // as if there were no such child
  assert.deepEqual(issueCodes(await json(refused)), ['store.not-found']);
});

test('a push for another organisation is refused, and a GP practice cannot push', async () => {
  // The community trust's system with the hospice's export: the export is the hospice's.
  const wrong = await push(gw.as('community'));
  assert.equal(wrong.status, 403);
  const outcome = await json(wrong);
  assert.deepEqual(issueCodes(outcome), ['auth.wrong-organisation']);
  // A GP practice is not a source system.
  const gp = await push(gw.as('castleStreet'));
  assert.equal(gp.status, 403);
  assert.deepEqual(issueCodes(await json(gp)), ['auth.role']);
});
