// The smsc-sim web page in headless Chromium (driven by playwright-core,
// run by test_sim_web.sh): the page shows the handset of a message that
// was just submitted over SMPP with its text in the inbox, the binds table
// lists the bound ESME, and the MO form sends an SMS that the control API
// reports as sent and acknowledged. No console errors, no failed requests.
//
// usage: node sim_web.test.mjs
// environment: SIM_URL (http://127.0.0.1:PORT), SIM_MSISDN, SIM_TEXT (the
// submitted MT), MO_FROM, MO_TO, MO_TEXT, SHOT (screenshot path),
// CHROMIUM (default /usr/bin/chromium), USER_DATA_DIR (fresh directory),
// PLAYWRIGHT_CORE (path of the installed playwright-core package).
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failure.
import { createRequire } from 'node:module';
import path from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') {
    console.error(`FAIL: ${k} is not set`);
    process.exit(2);
  }
  return v;
};

const url = env('SIM_URL');
const msisdn = env('SIM_MSISDN');
const mtText = env('SIM_TEXT');
const moFrom = env('MO_FROM');
const moTo = env('MO_TO');
const moText = env('MO_TEXT');
const shot = env('SHOT');
const chromium = env('CHROMIUM', '/usr/bin/chromium');
const userDataDir = env('USER_DATA_DIR');
const require = createRequire(path.join(env('PLAYWRIGHT_CORE'), 'x.js'));
const pw = require(env('PLAYWRIGHT_CORE'));

const STEP_MS = 8000;
const consoleErrors = [];
const failedRequests = [];

function fail(msg) {
  throw new Error(msg);
}

async function apiStatus() {
  const r = await fetch(url + '/api/status', { cache: 'no-store' });
  if (!r.ok) fail(`GET /api/status: HTTP ${r.status}`);
  return r.json();
}

let ctx;
try {
  ctx = await pw.chromium.launchPersistentContext(userDataDir, {
    executablePath: chromium,
    headless: true,
    // Debian's chromium as root: no sandbox; nothing that phones home.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic'],
    viewport: { width: 1280, height: 900 },
    timeout: 20000,
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('console', m => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', e => consoleErrors.push('pageerror: ' + e.message));
  page.on('requestfailed', r => failedRequests.push(r.url() + ' ' +
    (r.failure()?.errorText ?? '')));
  page.on('response', r => {
    if (r.status() >= 400) failedRequests.push(r.url() + ' HTTP ' + r.status());
  });

  const resp = await page.goto(url + '/', { waitUntil: 'load' });
  if (!resp || resp.status() !== 200) fail(`GET /: ${resp && resp.status()}`);
  if ((await page.title()).indexOf('smsc-sim') < 0) fail('page title');
  console.log('ok: page loaded');

  // The MT submitted over SMPP: its handset and its text in the inbox.
  const phone = page.locator(`.phone[data-msisdn="${msisdn}"]`);
  await phone.waitFor({ state: 'visible' });
  await phone.locator('.sms.in .text', { hasText: mtText }).first()
    .waitFor({ state: 'visible' });
  console.log(`ok: handset ${msisdn} shows the submitted message`);

  // The bound ESME in the binds table.
  await page.locator('#sessions tbody tr', { hasText: 'BOUND_TRX' }).first()
    .waitFor({ state: 'visible' });
  console.log('ok: binds table lists the bound ESME');

  // MO from the form.
  const before = await apiStatus();
  const moSent = s => s.accounts.reduce((n, a) => n + a.mo_acked, 0);
  const acked0 = moSent(before);
  await page.fill('#mo-from', moFrom);
  await page.fill('#mo-to', moTo);
  await page.fill('#mo-text', moText);
  await page.click('#mo-send');
  const out = page.locator('#mo-result');
  await page.locator('#mo-result[data-status]').waitFor({ state: 'attached' });
  const status = await out.getAttribute('data-status');
  const outText = await out.textContent();
  if (status !== 'ok') fail(`MO form: ${outText}`);
  console.log(`ok: MO form says "${outText}"`);

  // The sending handset shows it as sent; the ESME acknowledged it.
  await page.locator(`.phone[data-msisdn="${moFrom}"] .sms.out .text`,
    { hasText: moText }).first().waitFor({ state: 'visible' });
  console.log(`ok: handset ${moFrom} shows the MO as sent`);
  const t0 = Date.now();
  for (;;) {
    const st = await apiStatus();
    if (moSent(st) > acked0) break;
    if (Date.now() - t0 > STEP_MS) fail('MO not acknowledged by the ESME');
    await new Promise(r => setTimeout(r, 100));
  }
  console.log('ok: the ESME acknowledged the MO (mo_acked went up)');

  // Wait out one refresh so errors in the polling loop show up too.
  await page.waitForTimeout(1200);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`ok: screenshot ${shot}`);
  if (consoleErrors.length) fail('console errors: ' + consoleErrors.join(' | '));
  if (failedRequests.length) fail('failed requests: ' + failedRequests.join(' | '));
  console.log('ok: no console errors, no failed requests');
} catch (e) {
  console.error('FAIL: ' + (e && e.message ? e.message.split('\n')[0] : e));
  if (consoleErrors.length) console.error('console errors: ' + consoleErrors.join(' | '));
  if (failedRequests.length) console.error('failed requests: ' + failedRequests.join(' | '));
  process.exitCode = 1;
} finally {
  if (ctx) await ctx.close().catch(() => {});
}
