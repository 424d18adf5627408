// smsc-sim web page: polls the control API once a second and shows the
// binds, counters and each handset's SMS list; the form posts an MO.
// Text from the API is always inserted with textContent, never as HTML.
// A part of the page is rebuilt only when its data changed, so a scrolled
// inbox or a text selection survives the polling.
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
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

// Last data shown per part of the page, as JSON text.
const shown = {};

function changed(key, data) {
  const sig = JSON.stringify(data);
  if (shown[key] === sig) return false;
  shown[key] = sig;
  return true;
}

// Fills a table body, or one muted row saying it is empty.
function fillRows(tbody, rows, cols, empty) {
  if (rows.length) {
    tbody.replaceChildren(...rows);
    return;
  }
  const td = el('td', 'empty', empty);
  td.colSpan = cols;
  const tr = el('tr');
  tr.appendChild(td);
  tbody.replaceChildren(tr);
}

function phone(h, box) {
  const p = el('div', 'phone');
  p.dataset.msisdn = h.msisdn;
  p.appendChild(el('h3', null, h.msisdn));
  const list = el('div', 'inbox');
  // Oldest first, newest at the bottom, as a phone shows a conversation.
  for (const m of box.messages) {
    const s = el('div', 'sms ' + m.dir);
    s.appendChild(el('span', 'meta', (m.dir === 'in' ? 'from ' + m.from : 'to ' + m.to) +
      ' · ' + new Date(m.time * 1000).toLocaleTimeString() + (m.parts > 1 ? ' · ' + m.parts + ' parts' : '')));
    s.appendChild(el('span', 'text', m.text));
    list.appendChild(s);
  }
  p.appendChild(list);
  return p;
}

async function refresh() {
  try {
    const st = await getJSON('/api/status');
    document.getElementById('uptime').textContent = 'up ' + st.uptime_s + ' s, SMPP port ' + st.smpp_port;
    if (changed('sessions', st.sessions))
      fillRows(document.querySelector('#sessions tbody'),
        st.sessions.map(s => row([s.name, s.system_id, s.state, s.peer, s.rx_pdus, s.tx_pdus])),
        6, 'no sessions');
    if (changed('accounts', st.accounts))
      fillRows(document.querySelector('#accounts tbody'),
        st.accounts.map(a => row([a.system_id, a.bound, a.binds_ok + ' ok / ' + a.binds_refused + ' refused',
          a.submits, fmtMap(a.submit_status), fmtMap(a.receipts), a.mo_sent + ' sent / ' + a.mo_acked + ' acked'])),
        7, 'no accounts yet');
    const hs = await getJSON('/api/handsets');
    const list = hs.handsets.slice(0, 24);
    const boxes = [];
    for (const h of list)
      boxes.push(await getJSON('/api/handsets/' + encodeURIComponent(h.msisdn)));
    if (changed('phones', boxes)) {
      const div = document.getElementById('phones');
      if (list.length) {
        div.replaceChildren(...list.map((h, i) => phone(h, boxes[i])));
        for (const ib of div.querySelectorAll('.inbox')) ib.scrollTop = ib.scrollHeight;
      } else {
        div.replaceChildren(el('p', 'empty', 'no handsets yet: submit an MT over SMPP or send an MO below'));
      }
    }
  } catch (e) {
    document.getElementById('uptime').textContent = 'API unreachable';
  }
}

// One poll at a time: the next starts a second after the last ended.
async function poll() {
  await refresh();
  setTimeout(poll, 1000);
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

poll();
