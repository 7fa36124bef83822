// Peer SMSC for smppbench on the npm `smpp` package (smpp.createServer).
// Accepts any bind, answers submit_sm with a fresh decimal message_id and,
// when registered_delivery asks for it, sends a delivery receipt right after
// (receipted_message_id + message_state TLVs and the Appendix B text).
// Usage: node server.js [port] [host]   (defaults 2777 127.0.0.1)
'use strict';
const smpp = require('smpp');

const port = Number(process.argv[2] || 2777);
const host = process.argv[3] || '127.0.0.1';
let nextID = 0;

function stamp(d) {
	const p = (n) => String(n).padStart(2, '0');
	return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
		p(d.getUTCHours()) + p(d.getUTCMinutes());
}

const server = smpp.createServer((session) => {
	const accept = (pdu) => session.send(pdu.response({ system_id: 'npm' }));
	session.on('bind_transmitter', accept);
	session.on('bind_receiver', accept);
	session.on('bind_transceiver', accept);
	session.on('enquire_link', (pdu) => session.send(pdu.response()));
	session.on('unbind', (pdu) => {
		session.send(pdu.response());
		session.close();
	});
	session.on('submit_sm', (pdu) => {
		const id = String(++nextID);
		session.send(pdu.response({ message_id: id }));
		if ((pdu.registered_delivery & 1) === 0) {
			return;
		}
		const d = stamp(new Date());
		session.deliver_sm({
			source_addr: pdu.destination_addr,
			destination_addr: pdu.source_addr,
			esm_class: 4,
			short_message: 'id:' + id + ' sub:001 dlvrd:001 submit date:' + d + ' done date:' + d +
				' stat:DELIVRD err:000 text:',
			receipted_message_id: id,
			message_state: 2,
		});
	});
	session.on('error', () => session.destroy());
});

server.listen(port, host, () => console.error('npm smpp peer listening on ' + host + ':' + port));
const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
