// Opens sealgate handset envelopes (docs/handset-api.md, sections 4 and 5)
// with nothing but the browser's WebCrypto: P-256 and X25519 ECDH
// (deriveBits), HKDF-SHA-256, AES-256-GCM, RSA-OAEP-SHA-256. The code is
// the recipe of docs/handset-api.md section 5, so the document's recipe is
// what this test proves. test_sec_webcrypto.sh drives it through
// sec_webcrypto.test.mjs: window.sgRun(data) returns a report; it never
// throws for a refused envelope, it records the refusal.
'use strict';

const te = new TextEncoder();
const b64d = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
const b64e = u => btoa(String.fromCharCode(...new Uint8Array(u)));
const cat = (...a) => {
  const o = new Uint8Array(a.reduce((n, x) => n + x.length, 0));
  let i = 0;
  for (const x of a) { o.set(x, i); i += x.length; }
  return o;
};

const SCHEMES = {
  'ecdh-p256-hkdf-sha256-aes256gcm': { name: 'ECDH', namedCurve: 'P-256' },
  'x25519-hkdf-sha256-aes256gcm': { name: 'X25519' },
  'rsa-oaep-sha256-aes256gcm': { name: 'RSA-OAEP', hash: 'SHA-256' },
};

// The device's key pair from the test's PKCS#8 and SPKI (a real app keeps
// the pair it generated; importing is the same thing for the test).
async function deviceKey(scheme, pkcs8, spki) {
  const alg = SCHEMES[scheme];
  if (!alg) throw new Error('unknown scheme ' + scheme);
  const rsa = alg.name === 'RSA-OAEP';
  const privateKey = await crypto.subtle.importKey('pkcs8', b64d(pkcs8), alg,
    false, rsa ? ['decrypt'] : ['deriveBits']);
  const publicKey = await crypto.subtle.importKey('spki', b64d(spki), alg,
    true, rsa ? ['encrypt'] : []);
  return { scheme, alg, privateKey, publicKey };
}

async function openBody(dek, env, msisdn) {
  const k = await crypto.subtle.importKey('raw', dek, 'AES-GCM', false,
    ['decrypt']);
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM',
    iv: b64d(env.body.nonce),
    additionalData: te.encode(`sealgate/v1/body|${env.id}|${msisdn}`) },
  k, b64d(env.body.ciphertext));
  return new Uint8Array(pt);
}

async function unwrapEcdh(kp, wrap, context) {
  const epk = b64d(wrap.epk);
  const dpk = new Uint8Array(await crypto.subtle.exportKey('raw',
    kp.publicKey));
  const peer = await crypto.subtle.importKey('raw', epk, kp.alg, false, []);
  const z = new Uint8Array(await crypto.subtle.deriveBits(
    { name: kp.alg.name, public: peer }, kp.privateKey, 256));
  if (z.every(b => b === 0)) throw new Error('cannot be opened');
  const ikm = await crypto.subtle.importKey('raw', z, 'HKDF', false,
    ['deriveBits']);
  const info = cat(te.encode(`sealgate/v1/wrap|${kp.scheme}|`), epk, dpk);
  const k = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256',
    salt: new Uint8Array(0), info }, ikm, 256);
  const kek = await crypto.subtle.importKey('raw', k, 'AES-GCM', false,
    ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM',
    iv: b64d(wrap.nonce),
    additionalData: te.encode(`sealgate/v1/key|${context}`) },
  kek, b64d(wrap.wrapped)));
}

async function unwrapRsa(kp, wrap) {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP' },
    kp.privateKey, b64d(wrap.wrapped)));
}

function unwrap(kp, wrap, context) {
  return kp.alg.name === 'RSA-OAEP' ? unwrapRsa(kp, wrap)
    : unwrapEcdh(kp, wrap, context);
}

// The whole app path: unwrap the DEK under the id, open the body.
async function openEnvelope(kp, env, msisdn) {
  if (env.scheme !== kp.scheme) throw new Error('scheme mismatch');
  const dek = await unwrap(kp, env.key, env.id);
  if (dek.length !== 32) throw new Error('DEK length');
  return new TextDecoder('utf-8', { fatal: true }).decode(
    await openBody(dek, env, msisdn));
}

// One byte of a base64 field changed.
function flip(b64, at) {
  const b = b64d(b64);
  b[Math.min(at, b.length - 1)] ^= 0x01;
  return b64e(b);
}

const clone = o => JSON.parse(JSON.stringify(o));

// Every tampering of one envelope; each must be refused.
function tamperings(env, ecdh) {
  const t = [];
  const add = (name, f) => { const e = clone(env); f(e); t.push([name, e]); };
  add('body ciphertext byte', e => { e.body.ciphertext = flip(e.body.ciphertext, 0); });
  add('body tag byte', e => { e.body.ciphertext = flip(e.body.ciphertext, 9999); });
  add('body nonce', e => { e.body.nonce = flip(e.body.nonce, 3); });
  add('body truncated', e => {
    e.body.ciphertext = b64e(b64d(e.body.ciphertext).slice(0, -1));
  });
  add('id (AAD)', e => { e.id = e.id + 'x'; });
  add('wrapped byte', e => { e.key.wrapped = flip(e.key.wrapped, 5); });
  add('wrapped tag byte', e => { e.key.wrapped = flip(e.key.wrapped, 9999); });
  if (ecdh) {
    add('epk byte', e => { e.key.epk = flip(e.key.epk, 20); });
    add('wrap nonce', e => { e.key.nonce = flip(e.key.nonce, 0); });
    add('epk all zero', e => {
      e.key.epk = b64e(new Uint8Array(b64d(e.key.epk).length));
    });
  }
  return t;
}

async function refused(f) {
  try {
    await f();
    return false;
  } catch (e) {
    return true;
  }
}

// data: {msisdn, plaintext, cases: [...], vectors: sec_vectors.json}
window.sgRun = async function (data) {
  const report = { cases: [], vectors: [] };
  for (const c of data.cases) {
    const r = { scheme: c.scheme, bits: c.bits, refusals: {} };
    const ecdh = !c.scheme.startsWith('rsa');
    try {
      const kp = await deviceKey(c.scheme, c.device_pkcs8, c.device_spki);
      r.opened = await openEnvelope(kp, c.envelope, data.msisdn);
      const ans = await unwrap(kp, c.challenge, 'challenge:' + c.rid);
      r.challenge = b64e(ans);
      for (const [name, e] of tamperings(c.envelope, ecdh))
        r.refusals[name] = await refused(() => openEnvelope(kp, e, data.msisdn));
      r.refusals['other msisdn (AAD)'] = await refused(() =>
        openEnvelope(kp, c.envelope, data.msisdn + '1'));
      if (ecdh) {
        // The challenge under the message's context, and the reverse.
        r.refusals['challenge context'] = await refused(() =>
          unwrap(kp, c.challenge, c.envelope.id));
        r.refusals['message wrap as challenge'] = await refused(() =>
          unwrap(kp, c.envelope.key, 'challenge:' + c.rid));
      }
      // Another device's key of the same scheme, made here.
      const alg = c.scheme.startsWith('rsa')
        ? { name: 'RSA-OAEP', modulusLength: c.bits,
          publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
        : SCHEMES[c.scheme];
      const okp = await crypto.subtle.generateKey(alg, false,
        ecdh ? ['deriveBits'] : ['encrypt', 'decrypt']);
      const other = { scheme: c.scheme, alg: SCHEMES[c.scheme],
        privateKey: okp.privateKey, publicKey: okp.publicKey };
      r.refusals['other device key'] = await refused(() =>
        openEnvelope(other, c.envelope, data.msisdn));
    } catch (e) {
      r.error = String(e && e.message || e);
    }
    report.cases.push(r);
  }
  const v = data.vectors;
  for (const name of ['p256', 'x25519', 'rsa']) {
    const r = { name };
    try {
      const kp = await deviceKey(v[name].scheme, v[name].device_pkcs8_b64,
        v[name].device_spki_b64);
      r.opened = await openEnvelope(kp, v.envelopes[name], v.message.msisdn);
      r.want = v.message.plaintext_utf8;
    } catch (e) {
      r.error = String(e && e.message || e);
    }
    report.vectors.push(r);
  }
  {
    const c = v.x25519_challenge;
    const r = { name: 'x25519_challenge' };
    try {
      const kp = await deviceKey(c.scheme, c.device_pkcs8_b64, c.device_spki_b64);
      const s = await unwrap(kp, c.wrap_json, c.context);
      r.opened = Array.from(s, b => b.toString(16).padStart(2, '0')).join('');
      r.want = c.secret_hex;
    } catch (e) {
      r.error = String(e && e.message || e);
    }
    report.vectors.push(r);
  }
  document.getElementById('out').textContent = JSON.stringify(report, null, 1);
  return report;
};
window.sgReady = true;
