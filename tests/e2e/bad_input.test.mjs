// The bad-input table of ../shared/reference/security.md ("Bad input → expected answer"), row
// by row, against the running gateway with its default security (HTTPS and MLLP over mutual
// TLS, SMART tokens): each input is sent by an outside client — raw bytes over a TLS socket
// where the input is about framing, fetch() otherwise — the answer is checked (status, the
// OperationOutcome's issue code, headers, the connection closed or not, the ACK's MSA-1 and
// ERR), nothing was stored where nothing should be, and the gateway still serves afterwards
// (GET /healthz, and a real read). docs/reliability.md lists the rows and where each is
// tested; rows found by this project are marked "(added)".
import assert from 'node:assert/strict';
import { createPrivateKey, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { assertion, connectMllp, issueCodes, prepareParties, repo, startGateway, tokenForm } from './support.mjs';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
let gw;
let shared;
let hospice;   // a source system: may write
let gp;        // a GP practice: reads and searches only
let officer;   // the privacy officer: reads the audit trail
let hospital;  // the MLLP sender

before(async () => {
  shared = prepareParties(['hospice', 'hospital', 'community', 'castleStreet', 'privacyOfficer']);
  // Short framing timeouts, so the "unfinished after the timeout" rows take seconds.
  gw = await startGateway({ shared, args: ['-Dgateway.http.timeoutSeconds=2',
    '-Dgateway.mllp.frameTimeoutSeconds=2', '-Dgateway.mllp.maxFrameBytes=65536',
    '-Dgateway.limits.maxBodyBytes=1048576'] });
  hospice = gw.as('hospice');
  gp = gw.as('castleStreet');
  officer = gw.as('privacyOfficer');
  hospital = gw.as('hospital');
});
after(async () => {
  assert.equal(await gw.stop(), 0, 'the gateway stops cleanly on SIGTERM');
  shared.remove();
});

// The gateway still serves: liveness, and a search through the whole stack.
async function stillServing() {
  const health = await gp.fetch('healthz');
  assert.equal(health.status, 200, 'GET /healthz after the bad input');
  await health.arrayBuffer();
  const read = await gp.fetch('metadata');
  assert.equal(read.status, 200, 'GET /metadata after the bad input');
  await read.arrayBuffer();
}

async function outcomeOf(response) {
  const text = await response.text();
  try { return JSON.parse(text); } catch { return { text }; }
}

// Sends `bytes` on a fresh mutual-TLS connection as `party` and collects what comes back until
// the gateway closes the connection or `waitMs` pass. { text, closed }.
function raw(party, bytes, waitMs = 4000) {
  const url = new URL(gw.base);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ...party.material });
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); resolve({ text, closed: false }); }, waitMs);
    socket.on('secureConnect', () => { if (bytes) socket.write(bytes); });
    socket.on('data', (d) => { text += d.toString('latin1'); });
    socket.on('end', () => { clearTimeout(timer); socket.destroy(); resolve({ text, closed: true }); });
    socket.on('close', () => { clearTimeout(timer); resolve({ text, closed: true }); });
    socket.on('error', (e) => { clearTimeout(timer); if (text) resolve({ text, closed: true }); else reject(e); });
  });
}

const statusOf = (text) => Number((/^HTTP\/1\.1 (\d{3})/.exec(text) ?? [])[1]);
const bodyOf = (text) => {
  const at = text.indexOf('\r\n\r\n');
  try { return JSON.parse(text.slice(at + 4)); } catch { return {}; }
};

// A request head as `party` with its token; `extra` are more header lines.
async function head(party, requestLine, extra = []) {
  return [requestLine, `Host: ${new URL(gw.base).host}`, `Authorization: Bearer ${await party.token()}`,
    ...extra, '', ''].join('\r\n');
}

// A Patient the hospice may write over REST: it carries the hospice's own local identifier,
// its relationship with the patient (docs/security.md, "Who may see and write what").
let serial = 0;
const patientJson = (extra = {}) => JSON.stringify({ resourceType: 'Patient',
  identifier: [{ system: 'https://acp-gateway.nhs.uk/Id/local/8WB01', value: `T-${process.pid}-${++serial}` }],
  name: [{ family: 'Table' }], ...extra });
const post = (party, target, body, type = 'application/fhir+json', headers = {}) =>
  party.fetch(target, { method: 'POST', body, headers: { 'content-type': type, ...headers } });

async function expectOutcome(response, status, code, what) {
  const body = await outcomeOf(response);
  assert.equal(response.status, status, `${what}: ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(body.resourceType, 'OperationOutcome', `${what}: an OperationOutcome`);
  const types = (body.issue ?? []).map((i) => i.code);
  if (code) assert.ok(types.includes(code), `${what}: issue type ${code} in ${JSON.stringify(types)} (${JSON.stringify(issueCodes(body))})`);
  return body;
}

async function count(query, party = hospice) {
  const r = await party.fetch(`${query}${query.includes('?') ? '&' : '?'}_summary=count`);
  assert.equal(r.status, 200);
  return (await r.json()).total;
}

test('XML with a DOCTYPE or an entity (XXE, billion laughs): 400 structure, nothing read or stored', async () => {
  const before = await count('Patient?family=Laughs');
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' +
    '<Patient xmlns="http://hl7.org/fhir"><name><family value="&lol2;Laughs"/></name></Patient>';
  await expectOutcome(await post(hospice, 'Patient', laughs, 'application/fhir+xml'), 400, 'structure', 'billion laughs');
  const xxe = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
    '<Patient xmlns="http://hl7.org/fhir"><name><family value="&x;"/></name></Patient>';
  const answer = await expectOutcome(await post(hospice, 'Patient', xxe, 'application/fhir+xml'), 400, 'structure', 'XXE');
  assert.ok(!JSON.stringify(answer).includes('root:'), 'no file content in the answer');
  // The community export is XML too.
  const community = gw.as('community');
  const exported = `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><CommunityExport xmlns="urn:northshire:community:export:1">&x;</CommunityExport>`;
  await expectOutcome(await post(community, '$ingest/community', exported, 'application/xml'), 400, 'structure', 'community export with a DOCTYPE');
  assert.equal(await count('Patient?family=Laughs'), before);
  await stillServing();
});

test('JSON nested deeper than the limit: 400 too-long; a body over the cap: 413 too-long', async () => {
  const deep = '{"resourceType":"Patient","extension":' + '['.repeat(100) + ']'.repeat(100) + '}';
  await expectOutcome(await post(hospice, 'Patient', deep), 400, 'too-long', 'deep JSON');
  const big = patientJson({ text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(1100000)}</div>` } });
  await expectOutcome(await post(hospice, 'Patient', big), 413, 'too-long', 'body over the cap');
  await stillServing();
});

test('duplicate JSON key, invalid UTF-8, trailing garbage, a lone surrogate escape: 400 structure', async () => {
  const cases = {
    'duplicate key': Buffer.from('{"resourceType":"Patient","gender":"male","gender":"female"}'),
    'invalid UTF-8': Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]),
    'trailing garbage': Buffer.from(`${patientJson()} trailing`),
    'lone surrogate (added)': Buffer.from('{"resourceType":"Patient","name":[{"family":"\\udc00"}]}'),
  };
  for (const [what, body] of Object.entries(cases))
    await expectOutcome(await post(hospice, 'Patient', body), 400, 'structure', what);
  await stillServing();
});

test('a number token too long; a malformed decimal or date: 400 value', async () => {
  await expectOutcome(await post(hospice, 'Patient', `{"resourceType":"Patient","multipleBirthInteger":${'9'.repeat(100)}}`),
    400, 'value', 'number too long');
  await expectOutcome(await post(hospice, 'Patient', patientJson({ birthDate: '2015-02-30' })), 400, 'value', 'impossible date');
  await expectOutcome(await post(hospice, 'Patient', patientJson({ birthDate: '14/03/2015' })), 400, 'value', 'malformed date');
  // A malformed decimal can only be sent in XML (in JSON it is a number token or not JSON).
  const encounter = (length) => '<Encounter xmlns="http://hl7.org/fhir"><status value="finished"/>' +
    '<class><system value="http://terminology.hl7.org/CodeSystem/v3-ActCode"/><code value="IMP"/></class>' +
    `<length><value value="${length}"/></length></Encounter>`;
  await expectOutcome(await post(hospice, 'Encounter', encounter('1.2.3'), 'application/fhir+xml'), 400, 'value', 'a malformed decimal');
  await expectOutcome(await post(hospice, 'Encounter', encounter('1,5'), 'application/fhir+xml'), 400, 'value', 'a decimal with a comma');
  // (added) A value of the wrong JSON type is a structure error: 400 structure.
  await expectOutcome(await post(hospice, 'Patient', patientJson({ multipleBirthInteger: '2' })), 400, 'structure',
    'an integer sent as a string');
  await stillServing();
});

test('POST with neither Content-Length nor chunked: 411 and close; with both: 400 and close', async () => {
  let r = await raw(hospice, await head(hospice, 'POST /Patient HTTP/1.1', ['Content-Type: application/fhir+json']));
  assert.equal(statusOf(r.text), 411, r.text.slice(0, 200));
  assert.ok(r.closed, 'the connection is closed after 411');
  r = await raw(hospice, (await head(hospice, 'POST /Patient HTTP/1.1', ['Content-Type: application/fhir+json',
    'Content-Length: 5', 'Transfer-Encoding: chunked'])) + '0\r\n\r\n');
  assert.equal(statusOf(r.text), 400, r.text.slice(0, 200));
  assert.ok(r.closed, 'the connection is closed after a request with both');
  await stillServing();
});

test('an oversize header, too many headers: 400 and close (the table allows 431 or 400); headers unfinished after the timeout: 408 and close', async () => {
  let r = await raw(hospice, await head(hospice, 'GET /metadata HTTP/1.1', [`X-Big: ${'a'.repeat(20000)}`]));
  assert.equal(statusOf(r.text), 400, r.text.slice(0, 200));
  assert.ok(r.closed);
  const many = Array.from({ length: 150 }, (_, i) => `X-H${i}: v`);
  r = await raw(hospice, await head(hospice, 'GET /metadata HTTP/1.1', many));
  assert.equal(statusOf(r.text), 400, r.text.slice(0, 200));
  assert.ok(r.closed);
  // A head that never ends: the gateway answers 408 after gateway.http.timeoutSeconds (2 s).
  r = await raw(hospice, 'GET /metadata HTTP/1.1\r\nHost: x\r\n', 8000);
  assert.equal(statusOf(r.text), 408, r.text.slice(0, 200));
  assert.ok(r.closed, 'closed after 408');
  await stillServing();
});

test('an unsupported Content-Type: 415; an unsupported _format: 406; both not-supported', async () => {
  await expectOutcome(await post(hospice, 'Patient', patientJson(), 'text/plain'), 415, 'not-supported', 'text/plain body');
  await expectOutcome(await gp.fetch('metadata?_format=text/csv'), 406, 'not-supported', '_format=text/csv');
  await expectOutcome(await gp.fetch('Patient?_format=application/pdf'), 406, 'not-supported', '_format=application/pdf');
  await stillServing();
});

// An access token like the gateway's own, with `change` applied to its claims (and header),
// signed with the gateway's token key (which these tests hold: prepareParties made it).
async function forgedToken(change) {
  const real = await gp.token();
  const [h, c] = real.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  const { header = h, claims = c } = change({ header: { ...h }, claims: { ...c } });
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  if (header.alg === 'none') return `${input}.`;
  const signer = createSign('SHA384');
  signer.update(input);
  const key = createPrivateKey(readFileSync(shared.tokenKey));
  return `${input}.${signer.sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

test('no, invalid or expired token; alg=none; wrong aud: 401 login or expired with WWW-Authenticate: Bearer', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tokens = {
    none: [null, 'login'],
    garbage: ['Bearer not-a-token', 'login'],
    'signed by another key': [`Bearer ${(await gp.token()).slice(0, -10)}AAAAAAAAAA`, 'login'],
    expired: [`Bearer ${await forgedToken(({ claims }) => ({ claims: { ...claims, exp: now - 120, iat: now - 600 } }))}`, 'expired'],
    'alg=none': [`Bearer ${await forgedToken(({ header }) => ({ header: { ...header, alg: 'none' } }))}`, 'login'],
    'wrong aud': [`Bearer ${await forgedToken(({ claims }) => ({ claims: { ...claims, aud: 'https://elsewhere.example/fhir' } }))}`, 'login'],
  };
  for (const [what, [authorization, code]] of Object.entries(tokens)) {
    const headers = authorization ? { authorization } : {};
    const r = await fetch(`${gw.base}/CarePlan`, { headers, dispatcher: gp.dispatcher });
    const body = await expectOutcome(r, 401, code, `token: ${what}`);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, `${what}: WWW-Authenticate`);
    assert.ok(!JSON.stringify(body).includes('9992530820'));
  }
  await stillServing();
});

test('at the token endpoint: an assertion with alg=none, the wrong aud or a replayed jti is refused (400 invalid_client)', async () => {
  const form = (a) => ({ method: 'POST', dispatcher: gp.dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenForm(a, 'system/CarePlan.rs') });
  const good = assertion(gp.privateKey, gp.clientId, gw.tokenEndpoint, gp.clientId);
  let r = await fetch(`${gw.base}/token`, form(good));
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  r = await fetch(`${gw.base}/token`, form(good));  // the same jti again
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_client', 'a replayed jti');
  const wrongAud = assertion(gp.privateKey, gp.clientId, 'https://elsewhere.example/token', gp.clientId);
  r = await fetch(`${gw.base}/token`, form(wrongAud));
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_client', 'the wrong aud');
  const [, claims] = good.split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
  r = await fetch(`${gw.base}/token`, form(none));
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_client', 'alg=none');
  await stillServing();
});

test('a valid token without the scope or relationship: 403 forbidden, and an AuditEvent of the refusal', async () => {
  // A GP practice may read and search, not write.
  await expectOutcome(await post(gp, 'Patient', patientJson()), 403, 'forbidden', 'a GP practice creating a Patient');
  const events = await officer.fetch('AuditEvent?agent=castle-street-gp&_count=1000');
  assert.equal(events.status, 200);
  const refusals = ((await events.json()).entry ?? []).map((e) => e.resource)
    .filter((e) => e.outcome !== '0' && e.action === 'C');
  assert.ok(refusals.length >= 1, 'the refused create is in the audit trail');
  await stillServing();
});

test('an id not matching [A-Za-z0-9-.]{1,64}: 400 value', async () => {
  for (const id of ['a_b', 'x'.repeat(65), 'a%20b', 'a*b'])
    await expectOutcome(await gp.fetch(`Patient/${id}`), 400, 'value', `id ${id}`);
  const put = await hospice.fetch('Patient/bad_id', { method: 'PUT', body: patientJson({ id: 'bad_id' }),
    headers: { 'content-type': 'application/fhir+json' } });
  await expectOutcome(put, 400, 'value', 'PUT with a bad id');
  await stillServing();
});

test('an unknown search parameter with strict handling: 400 not-supported; SQL in a value is taken literally', async () => {
  await expectOutcome(await gp.fetch('Patient?nonsense=1', { headers: { prefer: 'handling=strict' } }), 400, 'not-supported', 'unknown parameter');
  for (const value of ["x' OR '1'='1", 'x"; DROP TABLE resources; --', "%' UNION SELECT * FROM audit_events --", 'a_%', "x*/;--", "o'brien\\,x"])
    for (const query of [`Patient?family=${encodeURIComponent(value)}`, `Patient?identifier=${encodeURIComponent(`${NHS}|${value}`)}`,
      `CarePlan?patient.identifier=${encodeURIComponent(value)}`]) {
      const r = await hospice.fetch(query);
      assert.equal(r.status, 200, `${query}: ${(await r.clone().text()).slice(0, 200)}`);
      assert.equal(((await r.json()).entry ?? []).length, 0, `${query}: nothing matches`);
    }
  await stillServing();
});

test('If-None-Exist matching more than one: 412; a stale If-Match: 412', async () => {
  for (let i = 0; i < 2; i++)
    assert.equal((await post(hospice, 'Patient', patientJson({ name: [{ family: 'Twice' }] }))).status, 201);
  await expectOutcome(await post(hospice, 'Patient', patientJson({ name: [{ family: 'Twice' }] }), 'application/fhir+json',
    { 'if-none-exist': 'family=Twice' }), 412, null, 'If-None-Exist matching two');
  assert.equal(await count('Patient?family=Twice'), 2, 'no third Patient');
  const created = await (await post(hospice, 'Patient', patientJson({ name: [{ family: 'Stale' }] }))).json();
  const update = (version) => hospice.fetch(`Patient/${created.id}`, { method: 'PUT',
    body: JSON.stringify({ ...created, gender: 'female' }), headers: { 'content-type': 'application/fhir+json', 'if-match': `W/"${version}"` } });
  assert.equal((await update(1)).status, 200);
  await expectOutcome(await update(1), 412, null, 'stale If-Match');
  await stillServing();
});

test('an NHS number failing Modulus 11: 422 value; script in the narrative: 422 invariant', async () => {
  const own = JSON.parse(patientJson()).identifier;
  const badNhs = patientJson({ identifier: [...own, { system: NHS, value: '9992530821' }] });
  await expectOutcome(await post(hospice, 'Patient', badNhs), 422, 'value', 'NHS number failing Modulus 11');
  const script = patientJson({ text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>' } });
  await expectOutcome(await post(hospice, 'Patient', script), 422, 'invariant', 'script in the narrative');
  await stillServing();
});

test('a transaction Bundle with one bad entry: 400 or 422, and nothing committed', async () => {
  const before = await count('Patient?family=Atomic');
  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:9b0c6a57-0d0e-4b4e-9d2e-1f6a8f0c0001', resource: JSON.parse(patientJson({ name: [{ family: 'Atomic' }] })),
      request: { method: 'POST', url: 'Patient' } },
    { fullUrl: 'urn:uuid:9b0c6a57-0d0e-4b4e-9d2e-1f6a8f0c0002', resource: JSON.parse(patientJson({ name: [{ family: 'Atomic' }], birthDate: 'never' })),
      request: { method: 'POST', url: 'Patient' } },
  ] };
  const r = await post(hospice, '', JSON.stringify(bundle));
  assert.ok([400, 422].includes(r.status), `status ${r.status}`);
  assert.equal((await r.json()).resourceType, 'OperationOutcome');
  assert.equal(await count('Patient?family=Atomic'), before, 'nothing of the transaction was committed');
  await stillServing();
});

// ---- HL7 v2 over MLLP (raw frames on the hospital's TLS connection) ----

const VT = '\x0b';
const FS_CR = '\x1c\r';
// Sends one frame's content (or raw bytes with `framed` false) and resolves to the first ACK
// frame's segments, or to { closed: true } when the connection closes without one.
function mllp(socket, bytes, framed = true, waitMs = 8000) {
  return new Promise((resolve) => {
    let buffer = '';
    const done = (value) => { clearTimeout(timer); socket.off('data', onData); socket.off('close', onClose); resolve(value); };
    const onData = (d) => {
      buffer += d.toString('utf8');
      const end = buffer.indexOf(FS_CR);
      if (end >= 0) done({ segments: buffer.slice(buffer.indexOf(VT) + 1, end).split('\r').filter(Boolean) });
    };
    const onClose = () => done({ closed: true, buffer });
    const timer = setTimeout(() => done({ timeout: true, buffer }), waitMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(framed ? VT + bytes + FS_CR : bytes);
  });
}
const msa = (ack) => (ack.segments ?? []).find((s) => s.startsWith('MSA|'))?.split('|') ?? [];
const errs = (ack) => (ack.segments ?? []).filter((s) => s.startsWith('ERR|'));
const hl7 = (controlId, type, ...rest) => [
  `MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||${type}|${controlId}|P|2.4|||AL|NE||UNICODE UTF-8`, ...rest].join('\r');
const PID = 'PID|1||9992530820^^^NHS^NH~M555001^^^RX8^MR||Table^Row^^^Miss||20150314|F';
const PV1 = (visit) => `PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420|||||||||${visit}|||||||||||||||||||||||||20261028091500`;

test('HL7 v2: a bad MSH or encoding characters: AR; a missing required field or an unknown event: AE or AR, each with ERR', async () => {
  const socket = await connectMllp(hospital);
  try {
    let ack = await mllp(socket, 'MSH|^~|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|BAD1|P|2.4\rPID|1');
    assert.equal(msa(ack)[1], 'AR', JSON.stringify(ack));
    assert.ok(errs(ack).length >= 1, 'an ERR segment');
    ack = await mllp(socket, 'EVN|A01|20261028093000\rPID|1||x');  // no MSH at all
    assert.equal(msa(ack)[1], 'AR', JSON.stringify(ack));
    assert.ok(errs(ack).length >= 1);
    ack = await mllp(socket, hl7('MISS1', 'ADT^A01^ADT_A01', 'EVN|A01|20261028093000', 'PID|1||9992530820^^^NHS^NH||Table^Row', PV1('V1')));
    assert.equal(msa(ack)[1], 'AE', `no hospital number: ${JSON.stringify(ack)}`);
    assert.ok(errs(ack).length >= 1);
    ack = await mllp(socket, hl7('EVT1', 'ADT^Z99^ADT_A01', 'EVN|Z99|20261028093000', PID));
    assert.ok(['AE', 'AR'].includes(msa(ack)[1]), `unknown event: ${JSON.stringify(ack)}`);
    assert.ok(errs(ack).length >= 1);
    // The connection is still usable.
    ack = await mllp(socket, hl7('GOOD1', 'ADT^A01^ADT_A01', 'EVN|A01|20261028093000', PID, PV1('V555001')));
    assert.equal(msa(ack)[1], 'AA', JSON.stringify(ack));
  } finally {
    socket.destroy();
  }
  await stillServing();
});

test('HL7 v2: the same MSH-10 from the same sender again: AA, and no second write', async () => {
  const socket = await connectMllp(hospital);
  try {
    const message = hl7('RESEND1', 'ADT^A01^ADT_A01', 'EVN|A01|20261028093000',
      'PID|1||9992530820^^^NHS^NH~M555002^^^RX8^MR||Table^Resend^^^Miss||20150314|F', PV1('V555002'));
    assert.equal(msa(await mllp(socket, message))[1], 'AA');
    const history = async () => {
      const r = await hospital.fetch(`Encounter?identifier=${encodeURIComponent('V555002')}`);
      const e = (await r.json()).entry?.[0]?.resource;
      return e ? e.meta.versionId : null;
    };
    const version = await history();
    assert.ok(version, 'the Encounter was stored');
    assert.equal(msa(await mllp(socket, message))[1], 'AA', 'the resend is acknowledged');
    assert.equal(await history(), version, 'no new version');
  } finally {
    socket.destroy();
  }
  await stillServing();
});

test('MLLP: a frame over the size cap, or no end of frame within the timeout: connection closed, no ACK', async () => {
  let socket = await connectMllp(hospital);
  let r = await mllp(socket, VT + 'MSH|^~\\&|' + 'x'.repeat(70000), false);
  assert.ok(r.closed, `closed on an oversize frame: ${JSON.stringify(r).slice(0, 200)}`);
  assert.equal(msa(r).length, 0, 'no ACK');
  socket = await connectMllp(hospital);
  r = await mllp(socket, VT + hl7('SLOW1', 'ADT^A01^ADT_A01', PID), false, 10000);  // never ends
  assert.ok(r.closed, 'closed when the frame does not end within gateway.mllp.frameTimeoutSeconds');
  assert.equal(msa(r).length, 0, 'no ACK');
  await stillServing();
});

test('an export with one bad record among good ones: the good stored, the bad reported by its record id, nothing half-written', async () => {
  const sample = JSON.parse(readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8'));
  const good = sample.records[0];
  const bad = JSON.parse(JSON.stringify(good));
  bad.recordId = 'WB-BAD-1';
  delete bad.child.surname;  // a child without a surname cannot be matched or stored
  const doc = { ...sample, exportId: 'WB-TABLE-1', records: [good, bad] };
  const r = await post(hospice, '$ingest/hospice', JSON.stringify(doc), 'application/json');
  assert.equal(r.status, 200);
  const outcome = await r.json();
  const text = JSON.stringify(outcome);
  assert.ok(text.includes('WB-BAD-1'), 'the bad record is named');
  const number = (name) => outcome.parameter?.find((p) => p.name === name)?.valueInteger;
  assert.equal(number('rejected'), 1, text.slice(0, 400));
  assert.equal((number('stored') ?? 0) + (number('unchanged') ?? 0), 1, 'the good record is stored');
  assert.equal(await count(`Patient?identifier=${encodeURIComponent('https://acp-gateway.nhs.uk/Id/local/8WB01|WB-BAD-1')}`), 0,
    'nothing of the bad record was written');
  assert.equal(await count(`Patient?identifier=${encodeURIComponent(`https://acp-gateway.nhs.uk/Id/local/8WB01|${good.recordId}`)}`), 1,
    'the good record was (and the same system finds it)');
  await stillServing();
});
