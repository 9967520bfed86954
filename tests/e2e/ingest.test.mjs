// End to end: partner pushes over HTTP to the running gateway, the outcome read back, and
// every resource the mapping produced checked by an independent R4 validator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repo, startGateway, validate, validateDeep } from './support.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.stop(); });

const hospice = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'));

async function json(res) {
  const body = await res.json();
  validate(body);
  return body;
}

test('hospice export: stored, then unchanged, then found by NHS number', async () => {
  const push = () => fetch(`${gw.base}/$ingest/hospice`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: hospice,
  });
  const first = await json(await push());
  const outcome = (p) => p.parameter.find((x) => x.name === 'record').part
    .find((x) => x.name === 'outcome').valueCode;
  assert.equal(outcome(first), 'stored');
  // Every resource the record produced reads back valid R4.
  const refs = first.parameter.find((x) => x.name === 'record').part
    .filter((x) => x.name === 'resource').map((x) => x.valueReference.reference);
  assert.equal(refs.length, 7);
  for (const ref of refs) {
    const res = await fetch(`${gw.base}/${ref}`);
    assert.equal(res.status, 200, ref);
    validate(await res.json());
  }
  assert.equal(outcome(await json(await push())), 'unchanged');

  const search = await fetch(`${gw.base}/CarePlan?subject:Patient.identifier=` +
    encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9992530820') + '&_include=CarePlan:subject' +
    '&_revinclude=Provenance:target');
  const bundle = await search.json();
  validateDeep(bundle);
  const types = bundle.entry.map((e) => e.resource.resourceType).sort();
  assert.deepEqual(types, ['CarePlan', 'Patient', 'Provenance']);
});
