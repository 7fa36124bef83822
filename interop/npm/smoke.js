// Smoke test with a third-party SMPP client (the npm `smpp` package):
// bind as transceiver, submit_sm, enquire_link, wrong password, unbind.
// Usage: node smoke.js [host] [port]. Prints PASS/FAIL per case and a
// final "N passed, M failed" line; exits non-zero on any failure.
'use strict';
const smpp = require('smpp');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 2775);
const results = [];

function record(name, ok, why) {
	results.push(ok);
	console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${why ? ': ' + why : ''}`);
}

// connect opens a session and resolves once the TCP connection is up.
function connect() {
	return new Promise((resolve, reject) => {
		const s = smpp.connect({ host, port });
		s.once('connect', () => resolve(s));
		s.once('error', reject);
	});
}

// call sends one request and resolves with its response PDU, or rejects on timeout.
function call(s, cmd, fields) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${cmd}: no response in 5s`)), 5000);
		s[cmd](fields || {}, (pdu) => { clearTimeout(timer); resolve(pdu); });
	});
}

function closed(s) {
	return new Promise((resolve) => {
		if (s.socket.destroyed) return resolve();
		const timer = setTimeout(() => resolve('timeout'), 5000);
		s.once('close', () => { clearTimeout(timer); resolve(); });
	});
}

async function main() {
	const s = await connect();
	const bind = await call(s, 'bind_transceiver', { system_id: 'demo', password: 'demopass' });
	record('bind_transceiver', bind.command_status === 0, `status ${bind.command_status}`);
	record('bind_resp system_id', typeof bind.system_id === 'string' && bind.system_id.length > 0, `system_id ${JSON.stringify(bind.system_id)}`);

	const sub = await call(s, 'submit_sm', {
		source_addr: '12345', destination_addr: '491701234567', short_message: 'Hello from npm smpp',
	});
	record('submit_sm', sub.command_status === 0 && /^[\x21-\x7e]{1,64}$/.test(sub.message_id || ''),
		`status ${sub.command_status} message_id ${JSON.stringify(sub.message_id)}`);

	const ucs = await call(s, 'submit_sm', {
		destination_addr: '491701234567', short_message: 'Привет мир ✓',
	});
	record('submit_sm ucs2', ucs.command_status === 0, `status ${ucs.command_status}`);

	const el = await call(s, 'enquire_link');
	record('enquire_link', el.command === 'enquire_link_resp' && el.command_status === 0, `${el.command} status ${el.command_status}`);

	const ub = await call(s, 'unbind');
	record('unbind', ub.command === 'unbind_resp' && ub.command_status === 0, `${ub.command} status ${ub.command_status}`);
	const how = await closed(s);
	record('closed after unbind', how !== 'timeout', how === 'timeout' ? 'server kept the connection open' : '');

	const bad = await connect();
	const refused = await call(bad, 'bind_transmitter', { system_id: 'demo', password: 'wrong' });
	record('wrong password refused', refused.command_status === 0x0e, `status ${refused.command_status} (want 14 ESME_RINVPASWD)`);
	bad.destroy ? bad.destroy() : bad.socket.destroy();
}

main().catch((e) => record('smoke', false, e.message)).finally(() => {
	const failed = results.filter((ok) => !ok).length;
	console.log(`${results.length - failed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
});
