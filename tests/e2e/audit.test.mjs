// The audit trail against a crash: every read the gateway answered is in the trail after the
// gateway is killed with SIGKILL and started again — also with gateway.audit.readDurability=
// process (the read's AuditEvent is committed before the answer and fsynced later), here with
// a flush window far longer than the test, so that the kill comes before any flush.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareParties, repo, startGateway, validate } from './support.mjs';

const NHS_QUERY = encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9992530820');
const storeDir = mkdtempSync(path.join(tmpdir(), 'acp-e2e-audit-'));
const storeUrl = `sqlite:${storeDir}/audit.db`;
const shared = prepareParties(['hospice', 'castleStreet', 'privacyOfficer']);
after(() => {
  shared.remove();
  rmSync(storeDir, { recursive: true, force: true });
});

test('every answered read is in the audit trail after the gateway is killed with SIGKILL', async () => {
  const first = await startGateway({
    shared, storeUrl,
    args: ['-Dgateway.audit.readDurability=process', '-Dgateway.audit.flushMilliseconds=10000'],
  });
  const exportJson = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8');
  const pushed = await first.as('hospice').fetch('$ingest/hospice', {
    method: 'POST', body: exportJson, headers: { 'content-type': 'application/json' },
  });
  assert.equal(pushed.status, 200);
  const gp = first.as('castleStreet');
  const reads = 25;
  for (let i = 0; i < reads; i++) {
    const r = await gp.fetch(`CarePlan?patient.identifier=${NHS_QUERY}&_include=CarePlan:subject`);
    assert.equal(r.status, 200);
    const bundle = await r.json();
    assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'CarePlan'));
  }
  // At once after the last answer: no shutdown, no flush.
  assert.equal(await first.kill(), 'SIGKILL');

  const second = await startGateway({ shared, storeUrl });
  try {
    const officer = second.as('privacyOfficer');
    const found = await officer.fetch('AuditEvent?agent=castle-street-gp&_count=1000');
    assert.equal(found.status, 200);
    const bundle = await found.json();
    validate(bundle);
    const searches = (bundle.entry ?? []).map((e) => e.resource)
      .filter((e) => e.subtype?.some((c) => c.code === 'search-type'));
    assert.equal(searches.length, reads, 'one AuditEvent for each search answered before the kill');
    const chain = await officer.fetch('AuditEvent/$verify-chain');
    assert.equal(chain.status, 200);
    const result = (await chain.json()).parameter.find((p) => p.name === 'result');
    assert.equal(result.valueBoolean, true, 'the hash chain is intact after the crash');
  } finally {
    assert.equal(await second.stop(), 0);
  }
});
