// Records every HTTP request Kannel makes (dlr-url callbacks, sms-service
// get-url) as one line: path, then key=value per query parameter, tab
// separated, values decoded. Answers 200 with an empty body so an
// sms-service sends no reply. Usage: node recorder.js PORT FILE
'use strict';
const fs = require('fs');
const http = require('http');

const [port, file] = process.argv.slice(2);
const clean = (v) => String(v).replace(/[\t\r\n]/g, ' ');

http.createServer((req, res) => {
	const url = new URL(req.url, 'http://127.0.0.1');
	const fields = [url.pathname];
	for (const [k, v] of url.searchParams) fields.push(`${k}=${clean(v)}`);
	fs.appendFileSync(file, fields.join('\t') + '\n');
	res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
	res.end();
}).listen(Number(port), '127.0.0.1');
