// The submits both sides of the interop test agree on: message i's
// fields, and the text that names it. Three kinds: GSM default alphabet
// in short_message, UCS2 in short_message, and a long text in the
// message_payload TLV.
'use strict';

function submitFor(i) {
	const base = {
		source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '4930' + String(1000 + (i % 7)),
		dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '4917100' + String(100000 + i),
		registered_delivery: 1,
	};
	switch (i % 3) {
	case 0:
		return Object.assign(base, { data_coding: 0,
		    text: 'm' + i + ': plain text' });
	case 1:
		return Object.assign(base, { data_coding: 8,
		    text: 'm' + i + ': Grüße, привет' });
	default:
		return Object.assign(base, { data_coding: 0, payload: true,
		    text: 'm' + i + ': ' + 'long '.repeat(60) });
	}
}

// The index a text names, or -1.
function indexOf(text) {
	const m = /^m(\d+): /.exec(text || '');
	return m ? Number(m[1]) : -1;
}

module.exports = { submitFor, indexOf };
