// A third-party SMSC for the smppout interop test, on the npm `smpp`
// package's server side (smpp.createServer).
//
// Usage: node npm-smsc.js <system_id> <password>
// Listens on 127.0.0.1 with an ephemeral port and prints "LISTEN <port>"
// on stdout once it does. Binds with other credentials get ESME_RBINDFAIL.
// Every submit_sm is answered with an upper-case hex message_id; when
// registered_delivery asks, a receipt deliver_sm follows whose text names
// the id in decimal; every other receipt also carries receipted_message_id
// (lower-case hex) and message_state, so both ways of finding the id are
// exercised. The module is taken from interop/npm, else bench/peers/npm.
'use strict';
const path = require('path');

function loadSmpp() {
	const root = path.resolve(__dirname, '..', '..', '..');
	for (const dir of ['interop/npm/node_modules/smpp', 'bench/peers/npm/node_modules/smpp']) {
		try {
			return require(path.join(root, dir));
		} catch (e) {
			if (e.code !== 'MODULE_NOT_FOUND') throw e;
		}
	}
	console.error('npm-smsc: the smpp module is not installed');
	process.exit(3);
}

const smpp = loadSmpp();
const [systemId, password] = process.argv.slice(2);
let next = 0x2A0000;

function stamp(d) {
	const p = (n) => String(n).padStart(2, '0');
	return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
		p(d.getUTCHours()) + p(d.getUTCMinutes());
}

const server = smpp.createServer((session) => {
	const bind = (pdu) => {
		if (pdu.system_id !== systemId || pdu.password !== password) {
			session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
			return;
		}
		session.send(pdu.response({ system_id: 'npmsmsc' }));
	};
	session.on('bind_transceiver', bind);
	session.on('bind_transmitter', bind);
	session.on('bind_receiver', bind);
	session.on('enquire_link', (pdu) => session.send(pdu.response()));
	session.on('unbind', (pdu) => {
		session.send(pdu.response());
		session.close();
	});
	session.on('submit_sm', (pdu) => {
		const n = next++;
		const hex = n.toString(16).toUpperCase();
		session.send(pdu.response({ message_id: hex }));
		if ((pdu.registered_delivery & 1) === 0) {
			return;
		}
		const d = stamp(new Date());
		const receipt = {
			source_addr: pdu.destination_addr,
			destination_addr: pdu.source_addr,
			esm_class: 4,
			short_message: 'id:' + n + ' sub:001 dlvrd:001 submit date:' + d + ' done date:' + d +
				' stat:DELIVRD err:000 text:',
		};
		if (n % 2 === 1) {
			receipt.receipted_message_id = hex.toLowerCase();
			receipt.message_state = 2;
		}
		setTimeout(() => session.deliver_sm(receipt), 5);
	});
	session.on('error', () => session.destroy());
});

server.listen(0, '127.0.0.1', () => console.log('LISTEN ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
