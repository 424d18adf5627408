// Sealgate envelopes opened in headless Chromium with WebCrypto only
// (driven by playwright-core, run by test_sec_webcrypto.sh). The page
// sec_webcrypto.html/js gets fresh envelopes of every scheme made by the
// gateway's C code (sec_envelopes) and the published test vectors, opens
// them, and tries every tampering; this script checks the report.
//
// usage: node sec_webcrypto.test.mjs
// environment: ENVELOPES (JSON file from sec_envelopes), VECTORS
// (tests/unit/vectors/sec_vectors.json), PAGE (path of sec_webcrypto.html),
// CHROMIUM, USER_DATA_DIR (fresh directory), PLAYWRIGHT_CORE.
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failure.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') {
    console.error(`FAIL: ${k} is not set`);
    process.exit(2);
  }
  return v;
};

const data = JSON.parse(fs.readFileSync(env('ENVELOPES'), 'utf8'));
data.vectors = JSON.parse(fs.readFileSync(env('VECTORS'), 'utf8'));
const page_url = pathToFileURL(env('PAGE')).href;
const chromium = env('CHROMIUM', '/usr/bin/chromium');
const userDataDir = env('USER_DATA_DIR');
const require = createRequire(path.join(env('PLAYWRIGHT_CORE'), 'x.js'));
const pw = require(env('PLAYWRIGHT_CORE'));

function fail(msg) {
  throw new Error(msg);
}

let ctx;
let rc = 0;
try {
  ctx = await pw.chromium.launchPersistentContext(userDataDir, {
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic'],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  // Nothing but the page itself may load: no network at all.
  await page.route('**/*', r => r.request().url().startsWith('file:')
    ? r.continue() : r.abort());
  await page.goto(page_url);
  await page.waitForFunction(() => window.sgReady === true, null,
    { timeout: 10000 });
  if (!(await page.evaluate(() => !!(window.crypto && crypto.subtle))))
    fail('no crypto.subtle in the page');
  const report = await page.evaluate(d => window.sgRun(d), data);
  if (errors.length) fail('page errors: ' + errors.join('; '));

  if (report.cases.length !== data.cases.length) fail('cases missing');
  for (const [i, r] of report.cases.entries()) {
    const c = data.cases[i];
    const label = c.scheme + (c.bits ? '/' + c.bits : '');
    if (r.error) fail(`${label}: ${r.error}`);
    if (r.opened !== data.plaintext)
      fail(`${label}: opened ${JSON.stringify(r.opened)}, want ${JSON.stringify(data.plaintext)}`);
    console.log(`ok: ${label} opened in WebCrypto: ${r.opened}`);
    if (r.challenge !== c.answer) fail(`${label}: challenge answer differs`);
    console.log(`ok: ${label} challenge opened under challenge:${c.rid}`);
    const names = Object.keys(r.refusals);
    const want = c.scheme.startsWith('rsa') ? 9 : 14;
    if (names.length < want) fail(`${label}: only ${names.length} tamperings tried`);
    for (const n of names)
      if (r.refusals[n] !== true) fail(`${label}: tampered "${n}" was NOT refused`);
    console.log(`ok: ${label} refused every tampering: ${names.join(', ')}`);
  }
  for (const r of report.vectors) {
    if (r.error) fail(`vector ${r.name}: ${r.error}`);
    if (r.opened !== r.want) fail(`vector ${r.name}: ${r.opened} != ${r.want}`);
    console.log(`ok: published vector ${r.name} opened in WebCrypto`);
  }
} catch (e) {
  console.error('FAIL: ' + (e && e.message || e));
  rc = 1;
} finally {
  if (ctx) await ctx.close();
}
process.exit(rc);
