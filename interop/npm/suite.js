// Interop suite with the npm `smpp` package (client side) against smppd.
// Usage: node suite.js [host] [port]; env SMPPD_ADMIN (admin API base URL,
// for MO injection) and SMPPD_ADMIN_TOKEN (bearer token, optional).
// Prints PASS/FAIL per case and a final "N passed, M failed" line; exits
// non-zero on any failure.
'use strict';
const http = require('http');
const smpp = require('smpp');

const host = process.argv[2] || process.env.SMPP_HOST || '127.0.0.1';
const port = Number(process.argv[3] || process.env.SMPP_PORT || 2775);
const admin = process.env.SMPPD_ADMIN || '';
const WAIT = 5000;
const results = [];
const nonce = Date.now().toString(36);

function record(name, ok, why) {
	results.push(ok);
	console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${why ? ': ' + why : ''}`);
}

// statusName is the client's own name for a command_status.
function statusName(code) {
	for (const k of Object.keys(smpp.errors)) if (smpp.errors[k] === code) return k;
	return `0x${code.toString(16)}`;
}

function cstr(v) {
	return typeof v === 'string' ? v.replace(/\0+$/, '') : v;
}

function text(sm) {
	if (sm && typeof sm === 'object' && 'message' in sm) sm = sm.message;
	return Buffer.isBuffer(sm) ? sm.toString('latin1') : String(sm);
}

// open connects and collects every deliver_sm (answered at once) so a case
// can wait for the one it expects.
function open() {
	return new Promise((resolve, reject) => {
		const s = smpp.connect({ host, port });
		s.delivered = [];
		s.waiters = [];
		s.on('deliver_sm', (pdu) => {
			s.send(pdu.response());
			s.delivered.push(pdu);
			s.waiters = s.waiters.filter((w) => !w(pdu));
		});
		s.on('error', () => {});
		s.once('connect', () => resolve(s));
		s.socket.once('error', reject);
	});
}

// call sends one request and resolves with its response PDU, or rejects on timeout.
function call(s, cmd, fields) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${cmd}: no response in ${WAIT}ms`)), WAIT);
		const sent = s[cmd](fields || {}, (pdu) => { clearTimeout(timer); resolve(pdu); });
		if (!sent) { clearTimeout(timer); reject(new Error(`${cmd}: socket not writable`)); }
	});
}

// waitDeliver resolves with the first deliver_sm matching pred, or null.
function waitDeliver(s, pred, ms) {
	const seen = s.delivered.find(pred);
	if (seen) return Promise.resolve(seen);
	return new Promise((resolve) => {
		const timer = setTimeout(() => { s.waiters = s.waiters.filter((w) => w !== hook); resolve(null); }, ms || WAIT);
		const hook = (pdu) => {
			if (!pred(pdu)) return false;
			clearTimeout(timer);
			resolve(pdu);
			return true;
		};
		s.waiters.push(hook);
	});
}

function closed(s) {
	return new Promise((resolve) => {
		if (s.socket.destroyed) return resolve();
		const timer = setTimeout(() => resolve('timeout'), WAIT);
		s.once('close', () => { clearTimeout(timer); resolve(); });
	});
}

async function bind(cmd, systemId, password) {
	const s = await open();
	const r = await call(s, cmd, { system_id: systemId, password });
	if (r.command_status !== 0) {
		s.destroy();
		throw new Error(`${cmd} ${systemId}: ${statusName(r.command_status)}`);
	}
	return s;
}

async function done(s) {
	try { await call(s, 'unbind'); } catch (e) { /* closing anyway */ }
	s.destroy();
}

// injectMO posts an MO to smppd's admin API; resolves with the HTTP status.
function injectMO(body) {
	return new Promise((resolve, reject) => {
		if (!admin) return reject(new Error('no admin listener ([admin] missing from the config): cannot inject MO'));
		const data = JSON.stringify(body);
		const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) };
		if (process.env.SMPPD_ADMIN_TOKEN) headers.Authorization = `Bearer ${process.env.SMPPD_ADMIN_TOKEN}`;
		const req = http.request(`${admin}/v1/mo`, { method: 'POST', headers, timeout: WAIT }, (res) => {
			let out = '';
			res.on('data', (c) => { out += c; });
			res.on('end', () => resolve({ status: res.statusCode, body: out }));
		});
		req.on('error', reject);
		req.on('timeout', () => req.destroy(new Error('admin API: no answer')));
		req.end(data);
	});
}

const isReceipt = (p) => (p.esm_class & 0x3c) === 0x04;

async function caseBind(cmd, label) {
	const s = await open();
	const r = await call(s, cmd, { system_id: 'demo', password: 'demopass' });
	record(label, r.command_status === 0 && cstr(r.system_id).length > 0,
		`${statusName(r.command_status)} system_id ${JSON.stringify(cstr(r.system_id))}`);
	await done(s);
}

// caseWrongPassword tries every bind type: each must be refused with the
// status the client names ESME_RINVPASWD.
async function caseWrongPassword() {
	const why = [];
	let ok = true;
	for (const cmd of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
		const s = await open();
		const r = await call(s, cmd, { system_id: 'demo', password: 'wrong' });
		const name = statusName(r.command_status);
		ok = ok && name === 'ESME_RINVPASWD';
		why.push(`${cmd} ${name}`);
		s.destroy();
	}
	record('wrong password refused', ok, `client reports ${why.join(', ')}`);
}

async function caseSubmits(s) {
	const gsm = await call(s, 'submit_sm', {
		source_addr: '12345', destination_addr: '491701234567', data_coding: 0,
		short_message: 'GSM7 npm @£$¥èé ΔΦ {}[]~€',
	});
	record('submit GSM7', gsm.command_status === 0 && /^[0-9a-f]{16}$/.test(cstr(gsm.message_id)),
		`${statusName(gsm.command_status)} message_id ${JSON.stringify(cstr(gsm.message_id))}`);

	const ucs = await call(s, 'submit_sm', {
		source_addr: '12345', destination_addr: '491701234567', data_coding: 8,
		short_message: 'UCS2 npm Привет мир ✓ 你好',
	});
	record('submit UCS2', ucs.command_status === 0 && cstr(ucs.message_id).length > 0,
		`${statusName(ucs.command_status)} message_id ${JSON.stringify(cstr(ucs.message_id))}`);

	const body = 'Long npm message. '.repeat(25).slice(0, 400);
	const parts = [body.slice(0, 153), body.slice(153, 306), body.slice(306)];
	const ref = 0x42;
	const ids = [];
	const bad = [];
	for (let i = 0; i < parts.length; i++) {
		const r = await call(s, 'submit_sm', {
			source_addr: '12345', destination_addr: '491701234567', data_coding: 0, esm_class: 0x40,
			short_message: { udh: Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]), message: parts[i] },
		});
		if (r.command_status !== 0) bad.push(`part ${i + 1}: ${statusName(r.command_status)}`);
		else ids.push(cstr(r.message_id));
	}
	record('long message 3-part UDH', bad.length === 0 && ids.length === 3,
		bad.length ? bad.join(', ') : `ids ${ids.join(',')}`);

	const pl = await call(s, 'submit_sm', {
		source_addr: '12345', destination_addr: '491701234567', data_coding: 0,
		message_payload: body,
	});
	record('long message message_payload', pl.command_status === 0 && cstr(pl.message_id).length > 0,
		`${statusName(pl.command_status)} (${body.length} chars) message_id ${JSON.stringify(cstr(pl.message_id))}`);
}

async function caseReceiptAndQuery(s) {
	const sub = await call(s, 'submit_sm', {
		source_addr: '12345', destination_addr: '491709999999', registered_delivery: 1,
		short_message: `receipt please ${nonce}`,
	});
	const id = cstr(sub.message_id);
	if (sub.command_status !== 0) {
		record('receipt requested and received', false, `submit refused: ${statusName(sub.command_status)}`);
	} else {
		const dr = await waitDeliver(s, (p) => isReceipt(p) && cstr(p.receipted_message_id) === id);
		if (dr) {
			const t = text(dr.short_message);
			record('receipt requested and received', t.includes(`id:${id}`),
				`receipted_message_id ${id}, text ${JSON.stringify(t)}`);
		} else {
			const other = s.delivered.filter(isReceipt).map((p) => cstr(p.receipted_message_id));
			record('receipt requested and received', false,
				`no receipt for ${id} within ${WAIT}ms` + (other.length ? ` (got receipts for ${other.join(',')})` : ''));
		}
	}

	const q = await call(s, 'query_sm', { message_id: id, source_addr: '12345' });
	const states = ['', 'ENROUTE', 'DELIVERED', 'EXPIRED', 'DELETED', 'UNDELIVERABLE', 'ACCEPTED', 'UNKNOWN', 'REJECTED'];
	record('query_sm', q.command_status === 0 && cstr(q.message_id) === id && q.message_state >= 1 && q.message_state <= 8,
		q.command_status === 0
			? `message_id ${JSON.stringify(cstr(q.message_id))} state ${q.message_state} ${states[q.message_state] || '?'}`
			: `${statusName(q.command_status)} for ${id}`);
}

async function caseMO(cmd, systemId, password, label) {
	const s = await bind(cmd, systemId, password);
	const want = `MO npm ${label} ${nonce} @£$ €`;
	try {
		const res = await injectMO({ source_addr: '491700000001', destination_addr: '12345', short_message: want, system_id: systemId });
		if (res.status < 200 || res.status > 299) {
			record(`MO to ${label}`, false, `admin API answered ${res.status} ${res.body.trim()}`);
		} else {
			const mo = await waitDeliver(s, (p) => !isReceipt(p) && text(p.short_message).startsWith(`MO npm ${label} ${nonce}`));
			record(`MO to ${label}`, mo !== null && text(mo.short_message) === want,
				mo ? `got ${JSON.stringify(text(mo.short_message))} dcs ${mo.data_coding}` : `no deliver_sm within ${WAIT}ms`);
		}
	} catch (e) {
		record(`MO to ${label}`, false, e.message);
	}
	await done(s);
}

async function guarded(name, fn) {
	try { await fn(); } catch (e) { record(name, false, e.message); }
}

async function main() {
	await guarded('bind_transmitter', () => caseBind('bind_transmitter', 'bind_transmitter'));
	await guarded('bind_receiver', () => caseBind('bind_receiver', 'bind_receiver'));
	await guarded('bind_transceiver', () => caseBind('bind_transceiver', 'bind_transceiver'));
	await guarded('wrong password refused', caseWrongPassword);

	let s;
	await guarded('session', async () => { s = await bind('bind_transceiver', 'demo', 'demopass'); });
	if (s) {
		await guarded('submits', () => caseSubmits(s));
		await guarded('receipt/query', () => caseReceiptAndQuery(s));
		await guarded('enquire_link', async () => {
			const el = await call(s, 'enquire_link');
			record('enquire_link', el.command === 'enquire_link_resp' && el.command_status === 0, `${el.command} ${statusName(el.command_status)}`);
		});
		await guarded('unbind', async () => {
			const ub = await call(s, 'unbind');
			const how = await closed(s);
			record('unbind', ub.command === 'unbind_resp' && ub.command_status === 0 && how !== 'timeout',
				`${ub.command} ${statusName(ub.command_status)}${how === 'timeout' ? ', server kept the connection open' : ', closed'}`);
			s.destroy();
		});
	}
	await guarded('MO to transceiver', () => caseMO('bind_transceiver', 'demo', 'demopass', 'transceiver'));
	await guarded('MO to receiver', () => caseMO('bind_receiver', 'demo2', 'demopas2', 'receiver'));
}

main().catch((e) => record('suite', false, e.message)).finally(() => {
	const failed = results.filter((ok) => !ok).length;
	console.log(`${results.length - failed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
});
