// An ESME made with the npm package "smpp" (node-smpp), for
// test_gw_interop.sh: a bind with a wrong password, then a
// bind_transceiver, an enquire_link, N submits from pattern.js with
// receipts asked for, every receipt answered, and an unbind. Prints one
// JSON line of what it saw; exits 1 if it had to give up.
//   node esme.js PORT N
'use strict';
const smpp = require('smpp');
const { submitFor } = require('./pattern.js');

const port = Number(process.argv[2]);
const n = Number(process.argv[3]);
const out = { bad_bind_status: null, bind_status: null,
    enquire_link_status: null, accepted: 0, refused: 0, ids: 0,
    longest_id: 0, receipts: 0, receipt_ids_known: 0,
    receipts_before_response: 0, receipts_esm_class_ok: 0,
    unbind_status: null };
const ids = new Set();
const WINDOW = 8;
let sent = 0;

function url() {
	return { url: 'smpp://127.0.0.1:' + port, auto_enquire_link_period: 0 };
}

function done(ok) {
	out.ids = ids.size;
	console.log(JSON.stringify(out));
	process.exit(ok ? 0 : 1);
}

function bytes(m) {
	return m.data_coding === 8 ? Buffer.from(m.text, 'utf16le').swap16() :
	    Buffer.from(m.text, 'latin1');
}

function run() {
	const s = smpp.connect(url());
	s.on('error', (e) => { out.error = String(e); done(false); });
	s.on('deliver_sm', (pdu) => {
		s.send(pdu.response());
		const t = pdu.short_message && pdu.short_message.message;
		const m = /(?:^| )id:(\S+)/.exec(t || '');
		out.receipts++;
		if ((pdu.esm_class & 0x3c) === 0x04)
			out.receipts_esm_class_ok++;
		if (m && ids.has(m[1]))
			out.receipt_ids_known++;
		else
			out.receipts_before_response++;
		if (out.receipts === n)
			s.unbind({}, (p) => {
				out.unbind_status = p.command_status;
				s.close();
				done(true);
			});
	});
	s.bind_transceiver({ system_id: 'demo', password: 'demopass' },
	    (pdu) => {
		out.bind_status = pdu.command_status;
		if (pdu.command_status !== 0)
			done(false);
		s.enquire_link({}, (p) => {
			out.enquire_link_status = p.command_status;
		});
		for (let k = 0; k < WINDOW && sent < n; k++)
			submit(s);
	});
}

// Sends submit number `sent`; each answer sends the next one, so at most
// WINDOW are unanswered (the account's window is 16).
function submit(s) {
	const m = submitFor(sent++);
	const pdu = Object.assign({}, m);

	delete pdu.text;
	delete pdu.payload;
	if (m.payload)
		pdu.message_payload = bytes(m);
	else
		pdu.short_message = bytes(m);
	s.submit_sm(pdu, (r) => {
		if (r.command_status !== 0)
			out.refused++;
		else {
			out.accepted++;
			ids.add(r.message_id);
			out.longest_id = Math.max(out.longest_id,
			    r.message_id.length);
		}
		if (sent < n)
			submit(s);
	});
}

// First a wrong password: refused, and the session closed by us.
const bad = smpp.connect(url());
bad.on('error', () => {});
bad.bind_transceiver({ system_id: 'demo', password: 'wrongpw' }, (pdu) => {
	out.bad_bind_status = pdu.command_status;
	bad.close();
	run();
});
setTimeout(() => { out.error = 'timeout'; done(false); }, 30000);
