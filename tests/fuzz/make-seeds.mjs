// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*) from the
// inputs the tests already use: the partners' samples and golden inputs, the golden tests'
// expected FHIR resources, the test fixtures, the search-parameter tests' queries, the HTTP
// framing tests' requests. Run from anywhere: node tests/fuzz/make-seeds.mjs. Existing seed-*
// files are replaced; other files of a corpus (inputs the fuzzers found, merged by
// tests/fuzz/run.sh merge) are kept.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const corpus = path.join(here, 'corpus');
const read = (p) => fs.readFileSync(path.join(root, p));
const files = (dir, re) => {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (re.test(e.name)) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
};

const seeds = {};
const add = (target, name, bytes) => {
  (seeds[target] ??= []).push([name.replace(/[^A-Za-z0-9.-]+/g, '_'), Buffer.from(bytes)]);
};

// FHIR resources: the fixtures and every resource the golden tests expect.
const resources = [];
for (const f of files('tests/fixtures', /\.json$/)) resources.push([f, JSON.parse(read(f))]);
for (const f of files('tests/golden', /^expected\.json$/)) {
  const j = JSON.parse(read(f));
  Object.entries(j.resources ?? {}).forEach(([k, r]) => resources.push([`${f}-${k.split("/")[0]}`, r]));
}
const byType = {};
for (const [name, r] of resources) {
  // a few of each type are enough: the fuzzer finds the rest
  if ((byType[r.resourceType] = (byType[r.resourceType] ?? 0) + 1) > 6) continue;
  const text = JSON.stringify(r);
  add('json', name, text);
  add('fhir_json', name, text);
  add('validator', name, text);
}
for (const f of files('../shared/fhir/ukcore', /Example\.xml$/)) {
  add('fhir_xml', f, read(f));
  add('xml', f, read(f));
}

// JSON edge cases the reader must refuse or take.
const jsonEdges = ['{"a":[1,-0.5e+3,true,false,null,"\\u00e9\\ud83d\\ude00"]}', '{"a":1,"a":2}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', '{"a":1} x', '"\\x"',
  '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
  Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])];  // a byte-order mark before {}
jsonEdges.forEach((t, i) => add('json', `edge-${i}`, t));
// XML edge cases: a DOCTYPE, an entity, another encoding.
const xmlEdges = ['<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
  '<a xmlns="http://hl7.org/fhir"><b value="1"/><!-- c --><![CDATA[d]]></a>',
  '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', '<a><b></a>'];
xmlEdges.forEach((t, i) => add('xml', `edge-${i}`, t));

// Partner documents.
for (const f of [...files('mappings/hospice/samples', /\.json$/), ...files('tests/golden/hospice', /^\d\d-.*\.json$/)])
  add('hospice', f, read(f));
for (const f of [...files('mappings/community/samples', /\.xml$/), ...files('tests/golden/community', /\.xml$/)]) {
  add('community', f, read(f));
  add('xml', f, read(f));
}
for (const f of [...files('mappings/acute/samples', /\.hl7$/), ...files('tests/golden/hl7v2', /\.hl7$/)]) {
  const m = read(f);
  add('acute', f, m);
  add('hl7v2', f, m);
  // MLLP: byte 0 the frame limit, byte 1 the piece size, then the message framed twice, with
  // noise before the first frame.
  const framed = Buffer.concat([Buffer.from('xx\x0b'), m, Buffer.from('\x1c\x0d\x0b'), m.subarray(0, 200),
                                Buffer.from('\x1c\x0d')]);
  add('mllp_frames', f, Buffer.concat([Buffer.from([255, 7]), framed]));
}

// Search queries from the search-parameter tests: parse("Type", {{"name", "value"}, ...}).
const types = ['Patient', 'CarePlan', 'Encounter', 'Flag', 'Condition', 'RiskAssessment', 'AuditEvent',
  'Provenance', 'Subscription', 'Observation'];
const queryTest = read('tests/search/query_test.cc').toString();
let n = 0;
for (const m of queryTest.matchAll(/parse\(\s*"(\w+)",\s*\{((?:\{"[^"]*",\s*"(?:[^"\\]|\\.)*"\},?\s*)+)\}/g)) {
  const t = types.indexOf(m[1]);
  if (t < 0) continue;
  const pairs = [...m[2].matchAll(/\{"([^"]*)",\s*"((?:[^"\\]|\\.)*)"\}/g)]
    .map(([, k, v]) => `${k}=${JSON.parse(`"${v}"`)}`);
  add('search', `query-test-${n++}`, Buffer.concat([Buffer.from([t]), Buffer.from(pairs.join('&'))]));
}
for (const q of ['identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&_include=CarePlan:subject',
  'patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&_sort=-date&_count=5',
  "family=O'Brien;DROP TABLE resources--&_elements=id", '_has:CarePlan:subject:status=active&_total=accurate'])
  add('search', `query-${n++}`, Buffer.concat([Buffer.from([q.startsWith('patient') ? 1 : 0]), Buffer.from(q)]));

// HTTP requests (byte 0: the piece size).
const requests = [
  'GET /Patient?identifier=x HTTP/1.1\r\nHost: a\r\n\r\nGET /metadata HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'POST /Patient HTTP/1.1\r\nHost: a\r\nContent-Type: application/fhir+json\r\nContent-Length: 27\r\n\r\n{"resourceType":"Patient"}\n',
  'POST /$ingest/hospice HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'PUT /Patient/1 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}',
  'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
  'GET / HTTP/1.1\nHost: a\n X-Folded: b\n\n', 'DELETE /Patient/1 HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello'];
requests.forEach((r, i) => add('http_request', `request-${i}`, Buffer.concat([Buffer.from([i * 9]), Buffer.from(r)])));

// Client assertions: odd byte 0 = claims signed with the client's key; even = the JWT as sent.
const claims = { iss: 'fuzz-client', sub: 'fuzz-client', aud: 'https://gateway.test/fhir/token',
  exp: 1767225600 + 240, jti: 'j-1' };
add('client_assertion', 'valid-claims', Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(claims))]));
add('client_assertion', 'expired', Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ ...claims, exp: 1767225000 }))]));
add('client_assertion', 'array-aud', Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify({ ...claims, aud: [claims.aud] }))]));
const b64 = (s) => Buffer.from(s).toString('base64url');
add('client_assertion', 'alg-none', Buffer.concat([Buffer.from([0]),
  Buffer.from(`${b64('{"alg":"none","typ":"JWT"}')}.${b64(JSON.stringify(claims))}.`)]));
add('client_assertion', 'es384-garbage', Buffer.concat([Buffer.from([0]),
  Buffer.from(`${b64('{"alg":"ES384","kid":"k1"}')}.${b64(JSON.stringify(claims))}.${b64('x'.repeat(96))}`)]));

for (const [target, list] of Object.entries(seeds)) {
  const dir = path.join(corpus, target);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.startsWith('seed-')) fs.unlinkSync(path.join(dir, f));
  for (const [name, bytes] of list) fs.writeFileSync(path.join(dir, `seed-${name}`), bytes);
  console.log(`${target}: ${list.length} seeds`);
}
