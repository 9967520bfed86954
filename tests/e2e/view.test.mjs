// The clinician view in a real browser: Debian's Chromium, driven by playwright-core, against the
// gateway with its default security — the GP practice's client certificate (mutual TLS) and
// its bearer token, as a GP system's embedded browser sends them; and through a launch link
// the GP system asks for, opened on the listener for browsers with neither (once). Checked on the rendered page:
// the resuscitation decision first and readable, the child's details, the sources'
// disagreement marked, the stylesheet applied (NHS.UK frontend, from the gateway itself), no
// request leaving the gateway, nothing refused by the page's Content-Security-Policy, and an
// axe-core accessibility check with no serious or critical finding. The screenshots are kept
// as test artefacts in build/artifacts/ (screen and print).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { certsDir, prepareParties, repo, startGateway } from './support.mjs';

const CHROMIUM = process.env.ACP_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(repo, 'build/artifacts');
const NHS = '9992530820';  // the hospice sample's child; its GP practice is X81001

let shared;
let gw;
let browser;

before(async () => {
  shared = prepareParties(['hospice', 'community', 'castleStreet', 'meadowLane']);
  // With the listener for clinicians' browsers (HTTPS, no client certificates): launch links.
  gw = await startGateway({ shared, args: ['-Dgateway.view.port=0', '-Dgateway.view.host=127.0.0.1'] });
  const hospiceExport = readFileSync(path.join(repo, 'mappings/hospice/samples/example-1.2.json'), 'utf8');
  const pushed = await gw.as('hospice').fetch('$ingest/hospice', {
    method: 'POST', body: hospiceExport, headers: { 'content-type': 'application/json' } });
  assert.equal(pushed.status, 200, await pushed.text());
  // The community trust's export for the same child: its plan differs from the hospice's on
  // the resuscitation decision, a disagreement the page must show.
  const community = readFileSync(path.join(repo, 'mappings/community/samples/example.xml'), 'utf8')
    .replace('<Decision kind="cpr" value="modified">Airway support and oxygen only.</Decision>',
      '<Decision kind="cpr" value="attempt">Full resuscitation.</Decision>');
  assert.match(community, /value="attempt"/);
  const sent = await gw.as('community').fetch('$ingest/community', {
    method: 'POST', body: community, headers: { 'content-type': 'application/xml' } });
  assert.equal(sent.status, 200, await sent.text());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (gw) await gw.stop();
  shared?.remove();
});

// A browser context as the GP practice `party`: its certificate for the gateway's origin, its
// token on every request.
async function contextAs(party, options = {}) {
  const clients = path.join(certsDir(), 'clients');
  return browser.newContext({
    ignoreHTTPSErrors: true,  // the development CA is not in Chromium's store
    clientCertificates: [{ origin: gw.base, certPath: path.join(clients, `${party.cert}.crt`),
      keyPath: path.join(clients, `${party.cert}.key`) }],
    extraHTTPHeaders: { authorization: `Bearer ${await party.token()}` },
    ...options,
  });
}

test('the GP opens the child\'s plan: resuscitation first, disagreement marked, styled, nothing from outside', async () => {
  const context = await contextAs(gw.as('castleStreet'));
  const page = await context.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(gw.base)) outside.push(r.url()); });
  const refused = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
  const response = await page.goto(`${gw.base}/view/patient?nhs=${NHS}`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /default-src 'none'/);

  // The child.
  assert.match(await page.locator('h1').first().innerText(), /^Amelia (Rose )?Hartley$/);
  assert.match(await page.locator('.acp-banner').innerText(), /999 253 0820/);
  // The resuscitation decision: the first section of the page, the most recent value large.
  const first = page.locator('main section').nth(1);
  assert.equal(await first.getAttribute('id'), 'resuscitation');
  // What the page shows is what $acp-summary answers the same reader.
  const summary = await (await gw.as('castleStreet').fetch(
    `Patient/$acp-summary?identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${NHS}`)}`)).json();
  const cpr = summary.parameter.find((p) => p.name === 'item' &&
    p.part.find((q) => q.name === 'code').valueCoding.code === 'resuscitation');
  const readable = (statement) => {
    const v = statement.part.find((q) => q.name === 'value');
    return v.valueString ?? v.valueCodeableConcept?.coding?.find((c) => c.display)?.display ??
      v.valueCodeableConcept?.text;
  };
  const current = cpr.part.find((q) => q.name === 'current');
  const differs = cpr.part.filter((q) => q.name === 'differs');
  assert.ok(current && differs.length >= 1, 'the sources disagree on the CPR decision');
  const value = page.locator('.acp-resuscitation__value');
  assert.equal(await value.innerText(), readable(current));
  const size = parseFloat(await value.evaluate((e) => getComputedStyle(e).fontSize));
  const body = parseFloat(await page.locator('.acp-provenance').first().evaluate((e) => getComputedStyle(e).fontSize));
  assert.ok(size >= 1.5 * body, `the decision stands out (${size}px against ${body}px)`);
  // The hospice's different decision beside it, and the count of disagreements.
  const shownDiffers = await page.locator('#resuscitation .acp-differs').innerText();
  for (const d of differs) assert.ok(shownDiffers.includes(readable(d)), `${readable(d)} is shown`);
  const count = summary.parameter.find((p) => p.name === 'disagreements').valueInteger;
  assert.match(await page.locator('.acp-disagreements').innerText(),
    new RegExp(`disagree on ${count} decision`));
  // The NHS.UK frontend's stylesheet applied: the header is NHS blue.
  assert.equal(await page.locator('.nhsuk-header').evaluate((e) => getComputedStyle(e).backgroundColor),
    'rgb(0, 94, 184)');
  assert.deepEqual(outside, [], 'no request leaves the gateway');
  assert.deepEqual(refused, [], 'the page needs nothing its policy refuses');
  await page.screenshot({ path: path.join(ARTIFACTS, 'view-patient.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'view-patient-print.png'), fullPage: true });
  assert.ok(existsSync(path.join(ARTIFACTS, 'view-patient.png')));
  await context.close();
});

test('another practice sees the page of a child that is not there', async () => {
  const context = await contextAs(gw.as('meadowLane'));
  const page = await context.newPage();
  const response = await page.goto(`${gw.base}/view/patient?nhs=${NHS}`);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').innerText(), 'No shared plan found');
  assert.doesNotMatch(await page.content(), /Amelia|999 253 0820/);
  await context.close();
});

test('axe-core finds nothing serious or critical on the page', async () => {
  // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
  const context = await contextAs(gw.as('castleStreet'), { bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${gw.base}/view/patient?nhs=${NHS}`);
  await page.addScriptTag({ path: path.join(repo, 'tests/e2e/node_modules/axe-core/axe.min.js') });
  const results = await page.evaluate(() => globalThis.axe.run(document,
    { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }));
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), []);
  assert.ok(results.passes.length > 10, 'axe ran its checks');
  for (const v of results.violations) console.log(`# axe ${v.impact}: ${v.id} — ${v.help}`);
  await context.close();
});

test('a launch link from the GP system opens the page in a browser with no certificate or token, once', async () => {
  assert.ok(gw.view, 'the listener for browsers is on');
  const made = await gw.as('castleStreet').fetch(`view/launch?nhs=${NHS}&user=555123456789&userName=Dr%20Anna%20Smith`,
    { method: 'POST' });
  assert.equal(made.status, 200, await made.clone().text());
  const url = (await made.json()).parameter.find((p) => p.name === 'url').valueUrl;
  assert.ok(url.startsWith(`https://127.0.0.1:${gw.view.port}/view/launch/`), url);
  assert.doesNotMatch(url, new RegExp(NHS));
  // A clinician's browser: the development CA is not in its store, and it has nothing else.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(`https://127.0.0.1:${gw.view.port}/`)) outside.push(r.url()); });
  const response = await page.goto(url);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['referrer-policy'], 'no-referrer');
  assert.match(await page.locator('h1').first().innerText(), /^Amelia (Rose )?Hartley$/);
  assert.equal(await page.locator('main section').nth(1).getAttribute('id'), 'resuscitation');
  assert.equal(await page.locator('.nhsuk-header').evaluate((e) => getComputedStyle(e).backgroundColor),
    'rgb(0, 94, 184)', 'the stylesheet comes from the same listener');
  assert.deepEqual(outside, []);
  await page.screenshot({ path: path.join(ARTIFACTS, 'view-launch.png'), fullPage: true });
  // Opened once: a reload, the history or a copied link opens nothing.
  const again = await page.reload();
  assert.equal(again.status(), 410);
  assert.equal(await page.locator('h1').innerText(), 'This link cannot be opened again');
  assert.doesNotMatch(await page.content(), /Amelia|999 253 0820/);
  // The API is not on this listener.
  const api = await page.goto(`https://127.0.0.1:${gw.view.port}/Patient?identifier=${NHS}`);
  assert.equal(api.status(), 404);
  await context.close();
});
