// smsc-sim web page: polls the control API once a second and shows the
// binds, counters and each handset's SMS list; the form posts an MO.
// Text from the API is always inserted with textContent, never as HTML.
'use strict';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(cells) {
  const tr = el('tr');
  for (const c of cells) tr.appendChild(el('td', null, String(c)));
  return tr;
}

function fmtMap(m) {
  return Object.entries(m || {}).filter(([, v]) => v).map(([k, v]) => k + ':' + v).join(' ');
}

async function getJSON(path) {
  const r = await fetch(path, { cache: 'no-store' });
  return r.json();
}

async function refresh() {
  try {
    const st = await getJSON('/api/status');
    document.getElementById('uptime').textContent = 'up ' + st.uptime_s + ' s, SMPP port ' + st.smpp_port;
    const sb = document.querySelector('#sessions tbody');
    sb.replaceChildren(...st.sessions.map(s => row([s.name, s.system_id, s.state, s.peer, s.rx_pdus, s.tx_pdus])));
    const ab = document.querySelector('#accounts tbody');
    ab.replaceChildren(...st.accounts.map(a => row([a.system_id, a.bound, a.binds_ok + ' ok / ' + a.binds_refused + ' refused',
      a.submits, fmtMap(a.submit_status), fmtMap(a.receipts), a.mo_sent + ' sent / ' + a.mo_acked + ' acked'])));
    const hs = await getJSON('/api/handsets');
    const phones = [];
    for (const h of hs.handsets.slice(0, 24)) {
      const box = await getJSON('/api/handsets/' + encodeURIComponent(h.msisdn));
      const p = el('div', 'phone');
      p.dataset.msisdn = h.msisdn;
      p.appendChild(el('h3', null, h.msisdn));
      for (const m of box.messages.slice().reverse()) {
        const s = el('div', 'sms ' + m.dir);
        s.appendChild(el('span', 'meta', (m.dir === 'in' ? 'from ' + m.from : 'to ' + m.to) +
          ' · ' + new Date(m.time * 1000).toLocaleTimeString() + (m.parts > 1 ? ' · ' + m.parts + ' parts' : '')));
        s.appendChild(el('span', 'text', m.text));
        p.appendChild(s);
      }
      phones.push(p);
    }
    document.getElementById('phones').replaceChildren(...phones);
  } catch (e) {
    document.getElementById('uptime').textContent = 'API unreachable';
  }
}

document.getElementById('mo-form').addEventListener('submit', async ev => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = {};
  for (const [k, v] of f.entries()) if (v !== '') body[k] = v;
  const out = document.getElementById('mo-result');
  try {
    const r = await fetch('/api/mo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const j = await r.json();
    out.textContent = r.ok ? 'sent: ' + j.parts + ' part(s) to ' + j.account : 'error: ' + j.message;
    out.dataset.status = r.ok ? 'ok' : 'error';
  } catch (e) {
    out.textContent = 'error: ' + e;
    out.dataset.status = 'error';
  }
  refresh();
});

refresh();
setInterval(refresh, 1000);
