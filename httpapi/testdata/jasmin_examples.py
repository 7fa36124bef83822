#!/usr/bin/env python3
"""What Jasmin's HTTP API documentation shows, run against smppd.

The examples of Jasmin's "HTTP API" chapter (sending with GET and POST,
long content, UCS2 as hex-content, a receipt callback, /balance, /rate,
/ping), written with the standard library only, as a Jasmin client would
be. Usage: jasmin_examples.py BASE_URL USERNAME PASSWORD TO. Exits 1 on
the first answer that is not what Jasmin would answer.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

base, username, password, to = sys.argv[1:5]


def call(path, params=None, data=None, json_body=None):
    url = base + path
    if params is not None:
        url += "?" + urllib.parse.urlencode(params)
    headers = {}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif data is not None:
        data = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect(what, got, status, check):
    code, body = got
    if code != status or not check(body):
        print("FAIL %s: %d %r" % (what, code, body))
        sys.exit(1)
    print("ok   %s: %d %s" % (what, code, body))


success = lambda b: b.startswith('Success "') and b.endswith('"')
base_params = {"username": username, "password": password, "to": to, "content": "Hello"}

# Sending with GET, then with POST (a form).
expect("GET /send", call("/send", base_params), 200, success)
expect("POST /send", call("/send", data=base_params), 200, success)
# The documentation's JSON form.
expect("POST /send as JSON", call("/send", json_body=base_params), 200, success)
# Long content (more than 160 characters).
long = dict(base_params, content="Very long message " + "." * 200)
expect("long content", call("/send", long), 200, success)
# UCS2 (UTF-16) arabic content as hex-content, coding 8.
ucs2 = dict(base_params, coding=8)
del ucs2["content"]
ucs2["hex-content"] = "0623063106460628"
expect("UCS2 hex-content", call("/send", ucs2), 200, success)
# A receipt callback, every level, asked with GET.
dlr = dict(base_params, dlr="yes", **{"dlr-url": "http://127.0.0.1:9/dlr", "dlr-level": 3, "dlr-method": "GET"})
expect("dlr-url", call("/send", dlr), 200, success)
# Errors as Jasmin writes them.
expect("bad password", call("/send", dict(base_params, password="wrong!")), 403,
       lambda b: b == 'Error "Authentication failure for username:%s"' % username)
expect("unknown argument", call("/send", dict(base_params, foo="bar")), 400,
       lambda b: b == 'Error "Argument [foo] is unknown."')
# Balance, rate, ping.
expect("/balance", call("/balance", {"username": username, "password": password}), 200,
       lambda b: set(json.loads(b)) == {"balance", "sms_count"})
expect("/rate", call("/rate", {"username": username, "password": password, "to": to}), 200,
       lambda b: set(json.loads(b)) == {"unit_rate", "submit_sm_count"} and json.loads(b)["submit_sm_count"] == 1)
expect("/ping", call("/ping"), 200, lambda b: b == "Jasmin/PONG")
