// smsc-sim web page: polls the control API once a second and shows the
// binds, counters and each handset's SMS list with its secure app (state
// and opened secure messages, marked apart); the form posts an MO.
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
  if (box.apps && box.apps.length) p.appendChild(appView(box.apps));
  p.appendChild(appButtons(h.msisdn));
  return p;
}

// The simulated secure app of a handset: its state per device and the
// secure messages it opened, shown apart from the SMS (never mixed with
// them: the content of a secure message never travelled as an SMS).
function appView(apps) {
  const v = el('div', 'app');
  for (const a of apps) {
    const st = el('div', 'app-state ' + a.state);
    let line = 'secure app ' + a.device + ': ' + a.state;
    if (a.busy) line += ' (' + a.busy + (a.step ? ', ' + a.step : '') + ')';
    if (a.scheme) line += ' · ' + a.scheme.split('-')[0];
    if (a.device_id) line += ' · device ' + a.device_id.slice(0, 8) + '…';
    st.appendChild(el('span', null, line));
    if (a.error) st.appendChild(el('span', 'app-error', a.error));
    v.appendChild(st);
    for (const m of a.messages) {
      const s = el('div', 'sms secure' + (m.state === 'opened' ? '' : ' unopenable'));
      s.appendChild(el('span', 'badge', m.state === 'opened' ? 'secure' : 'secure: not opened'));
      s.appendChild(el('span', 'meta', 'from ' + m.from + ' · ' + m.received_at +
        (m.acked ? ' · acked' : ' · not acked') + ' · id ' + m.id));
      s.appendChild(el('span', 'text', m.state === 'opened' ? m.text : 'cannot be opened'));
      v.appendChild(s);
    }
  }
  return v;
}

// Register (flow A or B) and sync buttons for device "a".
function appButtons(msisdn) {
  const f = el('div', 'app-buttons');
  const out = el('output', 'app-result');
  const act = (label, verb, body) => {
    const b = el('button', null, label);
    b.type = 'button';
    b.addEventListener('click', async () => {
      try {
        const r = await fetch('/api/handsets/' + encodeURIComponent(msisdn) + '/app/' + verb, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        const j = await r.json();
        out.textContent = r.ok ? verb + ': ' + (j.state || (j.opened ? j.opened.length + ' opened' : 'ok')) : 'error: ' + j.message;
      } catch (e) {
        out.textContent = 'error: ' + e;
      }
      refresh();
    });
    f.appendChild(b);
  };
  act('register (SMS code)', 'register', { mode: 'sms' });
  act('register (MO)', 'register', { mode: 'mo' });
  act('sync', 'sync', {});
  f.appendChild(out);
  return f;
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
