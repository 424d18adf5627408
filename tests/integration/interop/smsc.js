// An SMSC made with the npm package "smpp" (node-smpp), for
// test_gw_interop.sh: it checks each submit_sm against pattern.js,
// answers with an upper-case hex message id, and sends a receipt whose
// text carries the same number in decimal (no receipted_message_id);
// every fourth receipt goes out before the submit_sm_resp, as some SMSCs
// do. On SIGTERM it prints what it saw as one JSON line.
//   node smsc.js PORT
'use strict';
const smpp = require('smpp');
const { submitFor, indexOf } = require('./pattern.js');

const port = Number(process.argv[2]);
const seen = { binds: 0, submits: 0, mismatched: [], receipts_sent: 0,
    early: 0, unbinds: 0, enquire_links: 0 };
let next = 0x2A3B00;

function text(pdu, field) {
	const v = pdu[field];
	if (v == null)
		return '';
	return typeof v === 'object' && 'message' in v ? String(v.message) :
	    String(v);
}

function check(pdu) {
	const payload = pdu.message_payload != null;
	const t = payload ? text(pdu, 'message_payload') :
	    text(pdu, 'short_message');
	const i = indexOf(t);
	const want = i >= 0 ? submitFor(i) : null;
	const diff = [];

	if (want == null)
		return ['no index in text'];
	for (const k of ['source_addr_ton', 'source_addr_npi', 'source_addr',
	    'dest_addr_ton', 'dest_addr_npi', 'destination_addr',
	    'registered_delivery', 'data_coding'])
		if (pdu[k] !== want[k])
			diff.push(k + '=' + pdu[k]);
	if (payload !== Boolean(want.payload))
		diff.push('payload=' + payload);
	if (t !== want.text)
		diff.push('text');
	return diff.length ? ['m' + i + ' ' + diff.join(',')] : [];
}

const server = smpp.createServer((s) => {
	s.on('error', () => {});
	s.on('bind_transceiver', (pdu) => {
		seen.binds++;
		s.send(pdu.response());
	});
	s.on('enquire_link', (pdu) => {
		seen.enquire_links++;
		s.send(pdu.response());
	});
	s.on('unbind', (pdu) => {
		seen.unbinds++;
		s.send(pdu.response());
		s.close();
	});
	s.on('submit_sm', (pdu) => {
		const id = (next++).toString(16).toUpperCase();
		const early = seen.submits % 4 === 3;
		const receipt = () => {
			seen.receipts_sent++;
			s.deliver_sm({
				source_addr: pdu.destination_addr,
				destination_addr: pdu.source_addr,
				esm_class: 4,
				short_message: 'id:' + parseInt(id, 16) +
				    ' sub:001 dlvrd:001 submit date:2611281200' +
				    ' done date:2611281200 stat:DELIVRD err:000' +
				    ' text:',
			});
		};

		seen.submits++;
		seen.mismatched.push(...check(pdu));
		if (early) {
			seen.early++;
			receipt();
			setTimeout(() => s.send(pdu.response({ message_id: id })),
			    30);
		} else {
			s.send(pdu.response({ message_id: id }));
			setTimeout(receipt, 5);
		}
	});
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
	console.log(JSON.stringify(seen));
	process.exit(0);
});
console.error('smsc listening on ' + port);
