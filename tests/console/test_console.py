"""The operator's console (src/http/console/index.html) in headless Chromium.

Two modes:
  engine  (default; CI)  build/demandcenter demo --duration 60s --http-bind 127.0.0.1:<port>
                          serves the page at / and the JSON endpoints;
  fixture                 a small http.server serves the page file and fixture JSON
                          that follows the contract (src/http/console/README.md).

    /usr/bin/python3 tests/console/test_console.py            # engine mode
    /usr/bin/python3 tests/console/test_console.py --fixture  # fixture mode
    /usr/bin/python3 tests/console/test_console.py --serve-fixture 8000   # just serve, for a browser

Chromium is driven over the DevTools protocol (python3-websocket): console
messages, log entries and uncaught exceptions are collected, and every wait is
a condition awaited in the page with a deadline. Requests the engine cannot
produce on its own (an account owned by another instance, hostile strings, a
failing /v1/summary) are answered by the browser's request interception.
A screenshot goes to build/console.png. Needs Debian's chromium and
python3-websocket; if Chromium or the server cannot start, the test fails.
"""

import base64
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import websocket  # python3-websocket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "src", "http", "console", "index.html")
BIN = os.environ.get("DEMANDCENTER_BIN", os.path.join(ROOT, "build", "demandcenter"))
CHROMIUM = os.environ.get("CHROMIUM", "chromium")
SCREENSHOT = os.path.join(ROOT, "build", "console.png")
MODE = os.environ.get("CONSOLE_TEST_MODE", "engine")

# Account ids answered by request interception (never real accounts).
ELSEWHERE_ID = "elsewhere-7"
OWNER_URL = "http://10.0.0.5:8080"
PROBE_ID = "probe-1"
UNKNOWN_ID = "no-such-account-404"
TOKEN = "s3cret-token"
HOSTILE = '<img src=x onerror="window.__pwned=1">&amp;<script>window.__pwned=2</script>'

STAGES = ["unaware", "aware", "engaged", "evaluating", "negotiating", "customer", "expanding", "at_risk", "dormant"]


def rfc3339(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- contract

# The JSON the page reads (src/http/console/README.md). "!" marks a field that
# must be there, "?" one that belongs to some kinds of entry only; any other may be left out (protobuf-JSON leaves out zeros,
# empty strings and lists, and unset times), which the page reads as
# zero/empty/null and the test reports as a note.
TIME, NUM, INT, STR = "time", "num", "int", "str"
SUMMARY_SCHEMA = {
    "!instance_id": STR, "!time": TIME, "stream_time": (None, TIME), "partitions": [INT],
    "!stages": [{"!stage": STR, "accounts": INT}],
    "per_minute": {"signals": NUM, "transitions": NUM, "actions": NUM},
    "actions_by_channel": {"*": INT}, "dead_letters_by_reason": {"*": INT},
    "prompts": [{"assignee_id": (None, STR), "pool": (None, STR), "open": INT, "overdue": INT}],
    "recent_accounts": [{"!account_id": STR, "stage": STR, "at": TIME}],
    "totals": {"signals": INT, "outputs": INT, "dead_letters": INT},
}
ACCOUNT_SCHEMA = {
    "!account_id": STR, "partition": INT, "name": STR, "owner_id": STR, "segment": STR, "!stage": STR,
    "stage_since": (None, TIME), "score": NUM,
    "committee": [{"contact_id": STR, "role": STR, "title": (None, STR), "score": NUM}],
    "recent": [{"!at": TIME, "!kind": ("transition", "action"), "?from": STR, "?to": STR, "?action": STR,
                "?channel": STR, "rule": STR, "why": STR}],
    "open_tasks": [{"!task_id": STR, "action": STR, "assignee_id": (None, STR), "pool": (None, STR),
                    "sla_due": (None, TIME), "expires": (None, TIME), "escalation_level": INT}],
    "timers": [{"!kind": STR, "due": TIME}],
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def check(value, schema, path, problems, omitted):
    """Compares a JSON value with a schema above; wrong types go to problems, absent fields to omitted."""
    if isinstance(schema, tuple):  # alternatives: None (null), a type, or allowed string values
        if value is None and None in schema:
            return
        kinds = [k for k in schema if k is not None]
        if all(k not in (TIME, NUM, INT, STR) for k in kinds):
            if value not in kinds:
                problems.append("%s: %r is not one of %s" % (path, value, kinds))
            return
        return check(value, kinds[0], path, problems, omitted)
    if schema == STR:
        ok = isinstance(value, str)
    elif schema == TIME:
        ok = isinstance(value, str) and RFC3339.match(value) is not None
    elif schema == INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif schema == NUM:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(schema, list):
        if not isinstance(value, list):
            problems.append("%s: a list expected, got %r" % (path, value))
            return
        for i, item in enumerate(value):
            check(item, schema[0], "%s[%d]" % (path, i), problems, omitted)
        return
    elif isinstance(schema, dict):
        if not isinstance(value, dict):
            problems.append("%s: an object expected, got %r" % (path, value))
            return
        if "*" in schema:
            for k, v in value.items():
                check(v, schema["*"], "%s.%s" % (path, k), problems, omitted)
            return
        for key, sub in schema.items():
            name = key.lstrip("!?")
            where = (path + "." + name).lstrip(".")
            if name not in value and key.startswith("?"):
                continue
            if name not in value:
                (problems if key.startswith("!") else omitted).append(
                    where + " missing" if key.startswith("!") else re.sub(r"\[\d+\]", "[]", where))
            else:
                check(value[name], sub, where, problems, omitted)
        return
    else:
        raise ValueError(schema)
    if not ok:
        problems.append("%s: %r is not a %s" % (path, value, schema))


# ---------------------------------------------------------------- fixtures

def fixture_account(account_id, now):
    """An account answer following the contract, newest events a few minutes old."""
    n = int(re.sub(r"\D", "", account_id) or 1)
    stream = now - timedelta(seconds=42)
    return {
        "account_id": account_id, "partition": n % 12, "name": "Acme %d" % n, "owner_id": "rep-%d" % (n % 3 + 1),
        "segment": "enterprise", "stage": "evaluating", "stage_since": rfc3339(stream - timedelta(hours=5)),
        "score": 42.5 + n,
        "committee": [
            {"contact_id": "c%d-1" % n, "role": "economic_buyer", "title": "CFO", "score": 3.2},
            {"contact_id": "c%d-2" % n, "role": "champion", "title": "Head of Ops", "score": 7.9},
            {"contact_id": "c%d-3" % n, "role": "technical_evaluator", "title": None, "score": 1.0},
        ],
        "recent": [
            {"at": rfc3339(stream - timedelta(days=3)), "kind": "transition", "from": "unaware", "to": "aware",
             "rule": "first_touch", "why": "web.page_view by c%d-1" % n},
            {"at": rfc3339(stream - timedelta(hours=5)), "kind": "transition", "from": "aware", "to": "evaluating",
             "rule": "buying_intent", "why": "web.demo_request: Ana requested a demo"},
            {"at": rfc3339(stream - timedelta(hours=4)), "kind": "action", "action": "send_case_study",
             "channel": "EMAIL", "rule": "evaluating_nurture", "why": "evaluating for 1h; no case study in 14d"},
        ],
        "open_tasks": [
            {"task_id": "t-%d" % n, "action": "book_demo", "assignee_id": "rep-1", "pool": "ae-west",
             "sla_due": rfc3339(stream - timedelta(minutes=10)), "expires": rfc3339(stream + timedelta(days=2)),
             "escalation_level": 1},
            {"task_id": "t-%d-b" % n, "action": "call", "assignee_id": None, "pool": "sdr-east",
             "sla_due": None, "expires": None, "escalation_level": 0},
        ],
        "timers": [{"kind": "sla", "due": rfc3339(stream + timedelta(hours=1))},
                   {"kind": "inactivity", "due": rfc3339(stream + timedelta(days=14))}],
    }


def fixture_summary(now):
    stream = now - timedelta(seconds=42)
    return {
        "instance_id": "fixture-1", "time": rfc3339(now), "stream_time": rfc3339(stream),
        "partitions": [0, 1, 2, 3],
        "stages": [{"stage": s, "accounts": c} for s, c in zip(STAGES, [812, 344, 120, 61, 18, 44, 9, 7, 130])],
        "per_minute": {"signals": 1234.5, "transitions": 12.0, "actions": 40.3},
        "actions_by_channel": {"EMAIL": 100, "INSIDE_SALES": 12, "FIELD_SALES": 5, "DIGITAL": 33},
        "dead_letters_by_reason": {"UNRESOLVED_ACCOUNT": 12, "BAD_JSON": 3},
        "prompts": [{"assignee_id": "rep-1", "pool": "ae-west", "open": 3, "overdue": 1},
                    {"assignee_id": "rep-2", "pool": "ae-west", "open": 2, "overdue": 0},
                    {"assignee_id": None, "pool": "sdr-east", "open": 4, "overdue": 2}],
        "recent_accounts": [{"account_id": "acct-%d" % i, "stage": STAGES[i % len(STAGES)],
                             "at": rfc3339(stream - timedelta(seconds=7 * i))} for i in range(1, 8)],
        "totals": {"signals": 100000, "outputs": 90000, "dead_letters": 15},
    }


class FixtureHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        now = datetime.now(timezone.utc)
        if path == "/":
            with open(PAGE, "rb") as f:
                return self.reply(200, f.read(), "text/html; charset=utf-8")
        if path == "/v1/summary":
            return self.reply(200, fixture_summary(now))
        if path.startswith("/v1/accounts/"):
            account_id = unquote(path[len("/v1/accounts/"):])
            if re.fullmatch(r"acct-\d+", account_id):
                return self.reply(200, fixture_account(account_id, now))
            if account_id.startswith("elsewhere-"):
                return self.reply(404, {"error": "owned by another instance", "owner": OWNER_URL})
            return self.reply(404, {"error": "unknown account"})
        return self.reply(404, {"error": "not found"})

    do_HEAD = do_GET


# ---------------------------------------------------------------- servers

class FixtureServer:
    def __init__(self, port=0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), FixtureHandler)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def diagnostics(self):
        return ""

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class EngineServer:
    """build/demandcenter demo with the HTTP endpoints on a free loopback port."""

    def __init__(self, tmp):
        if not os.access(BIN, os.X_OK):
            raise RuntimeError("no engine binary at %s (build it: ninja -C build demandcenter)" % BIN)
        port = free_port()
        self.base = "http://127.0.0.1:%d" % port
        self.log_path = os.path.join(tmp, "demo.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [BIN, "demo", "--duration", "60s", "--http-bind", "127.0.0.1:%d" % port],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_ready(deadline=time.monotonic() + 30)
        except Exception:
            self.stop()
            raise

    def wait_ready(self, deadline):
        """Until GET /v1/summary answers 200 (the demo starts its embedded Kafka first)."""
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("demo exited with %s before serving /v1/summary\n%s"
                                   % (self.proc.returncode, self.diagnostics()))
            try:
                with urllib.request.urlopen(self.base + "/v1/summary", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError) as e:
                last = e
            time.sleep(0.2)  # polling interval of a readiness probe with a deadline
        raise RuntimeError("demo did not serve /v1/summary within 30 s (last: %s)\n%s" % (last, self.diagnostics()))

    def diagnostics(self):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-3000:]
            return "--- demo output (tail) ---\n" + data.decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- DevTools

class CDPError(RuntimeError):
    pass


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, tmp):
        self.profile = os.path.join(tmp, "chromium-profile")
        os.makedirs(self.profile)
        exe = shutil.which(CHROMIUM)
        if exe is None:
            raise RuntimeError("%s not found (apt-get install chromium)" % CHROMIUM)
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             "--user-data-dir=" + self.profile, "--window-size=1280,800",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--mute-audio",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self.stderr_lines = []
        lines = queue.Queue()

        def drain():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self.stderr_lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + 30
        browser_ws = None
        try:
            while browser_ws is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError("Chromium did not open its DevTools port within 30 s")
                try:
                    line = lines.get(timeout=remaining)
                except queue.Empty:
                    continue
                if line is None:
                    raise RuntimeError("Chromium exited (%s) before opening DevTools:\n%s"
                                       % (self.proc.wait(), "\n".join(self.stderr_lines[-30:])))
                m = re.search(r"DevTools listening on (ws://\S+)", line)
                if m:
                    browser_ws = m.group(1)
            http_base = "http://" + browser_ws.split("/")[2]
            req = urllib.request.Request(http_base + "/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(req, timeout=10) as r:
                target = json.load(r)
            self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        except Exception:
            self.close()
            raise
        self.next_id = 0
        self.responses = {}
        self.console = []      # (kind, text, url) of every console message, log entry and exception
        self.intercepts = []   # (url regex, callable(params) -> None) for Fetch.requestPaused
        self.load_fired = False

    # -- protocol

    def post(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        return self.next_id

    def call(self, method, params=None, timeout=30):
        msg_id = self.post(method, params)
        deadline = time.monotonic() + timeout
        while msg_id not in self.responses:
            self.pump_one(deadline, "%s" % method)
        msg = self.responses.pop(msg_id)
        if "error" in msg:
            raise CDPError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    def pump_one(self, deadline, waiting_for):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no DevTools answer to %s in time" % waiting_for)
        self.ws.settimeout(remaining)
        try:
            msg = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise TimeoutError("no DevTools answer to %s in time" % waiting_for)
        if "id" in msg:
            self.responses[msg["id"]] = msg
        else:
            self.on_event(msg["method"], msg.get("params", {}))

    def on_event(self, method, p):
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append(("console." + p.get("type", ""), text, ""))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.console.append(("exception", text, d.get("url", "")))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append(("log." + e.get("level", ""), e.get("text", ""), e.get("url", "")))
        elif method == "Page.loadEventFired":
            self.load_fired = True
        elif method == "Fetch.requestPaused":
            url = p["request"]["url"]
            for pattern, handler in self.intercepts:
                if re.search(pattern, url):
                    handler(p)
                    return
            self.post("Fetch.continueRequest", {"requestId": p["requestId"]})

    # -- helpers

    def fulfill(self, p, status, body):
        data = json.dumps(body).encode()
        self.post("Fetch.fulfillRequest", {
            "requestId": p["requestId"], "responseCode": status,
            "responseHeaders": [{"name": "Content-Type", "value": "application/json"},
                                {"name": "Cache-Control", "value": "no-store"}],
            "body": base64.b64encode(data).decode()})

    def evaluate(self, expression, timeout=30):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                      timeout=timeout)
        if "exceptionDetails" in r:
            raise CDPError("evaluate failed: %s" % r["exceptionDetails"].get("text"))
        return r["result"].get("value")

    def wait_for(self, expression, timeout, what):
        """Awaits a JS expression turning truthy, re-checked on every DOM change; its value."""
        script = """new Promise((resolve) => {
          const deadline = Date.now() + %d;
          let done = false, observer = null, timer = null;
          const check = () => {
            if (done) return;
            let v; try { v = (%s); } catch (e) { v = undefined; }
            if (v || Date.now() > deadline) {
              done = true; if (observer) observer.disconnect(); clearInterval(timer);
              resolve({ok: !!v, value: v === undefined ? null : v});
            }
          };
          observer = new MutationObserver(check);
          observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
          timer = setInterval(check, 100);  // deadline, and state outside the DOM
          check();
        })""" % (int(timeout * 1000), expression)
        r = self.evaluate(script, timeout=timeout + 10)
        if not r["ok"]:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        return r["value"]

    def navigate(self, url, timeout=20):
        self.load_fired = False
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not self.load_fired:
            self.pump_one(deadline, "Page.loadEventFired for " + url)

    def reload(self, timeout=20):
        self.load_fired = False
        self.call("Page.reload", {"ignoreCache": True})
        deadline = time.monotonic() + timeout
        while not self.load_fired:
            self.pump_one(deadline, "Page.loadEventFired after reload")

    def type_and_enter(self, selector, text):
        self.evaluate("(() => { const e = document.querySelector(%s); e.focus(); e.select(); })()" % json.dumps(selector))
        self.call("Input.insertText", {"text": text})
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", dict(key, type="keyDown", text="\r"))
        self.call("Input.dispatchKeyEvent", dict(key, type="keyUp"))

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# ---------------------------------------------------------------- tests

def js(s):
    return json.dumps(s)


ACCOUNT_TITLE = "((document.querySelector('#account:not([hidden]) .title') || {}).textContent || '')"
TIMELINE_ENTRIES = "document.querySelectorAll('#account:not([hidden]) #timeline li.entry').length"


class ConsoleTest(unittest.TestCase):
    """One browser and one server for the class; tests run in name order."""

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.tmp = tempfile.mkdtemp(prefix="dc-console-")
        cls.server = cls.browser = None
        try:
            cls.server = FixtureServer() if MODE == "fixture" else EngineServer(cls.tmp)
            cls.browser = Browser(cls.tmp)
            b = cls.browser
            # Expected failures: (url part, text part) of network log entries the tests provoke.
            cls.expected_errors = [("/v1/accounts/" + UNKNOWN_ID, "404"), ("/v1/accounts/" + ELSEWHERE_ID, "404")]
            cls.fail_summary = False
            cls.contract_notes = []
            cls.require_token = False
            cls.summary_auth = []  # the Authorization header of each /v1/summary request while a token is required
            b.intercepts = [
                (r"/v1/accounts/" + re.escape(PROBE_ID) + r"$", cls.answer_probe),
                (r"/v1/summary$", cls.maybe_fail_summary),
            ]
            if MODE != "fixture":  # one engine owns every partition: the other owner is simulated
                b.intercepts.append((r"/v1/accounts/" + re.escape(ELSEWHERE_ID) + r"$",
                                     lambda p: b.fulfill(p, 404, {"error": "owned by another instance",
                                                                  "owner": OWNER_URL})))
            b.call("Runtime.enable")
            b.call("Log.enable")
            b.call("Page.enable")
            # Only these requests are held for the test to answer; the rest never wait on it.
            cls.intercepted = ["*/v1/accounts/" + PROBE_ID]
            if MODE != "fixture":
                cls.intercepted.append("*/v1/accounts/" + ELSEWHERE_ID)
            cls.intercept(cls.intercepted)
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
            b.navigate(cls.server.base + "/")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.browser:
            cls.browser.close()
        if cls.server:
            cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        for note in getattr(cls, "contract_notes", []):
            sys.stderr.write("contract note: %s\n" % note)
        sys.stderr.write("console test (%s mode): %.1f s\n" % (MODE, time.monotonic() - cls.started))

    @classmethod
    def answer_probe(cls, p):
        a = fixture_account("acct-99", datetime.now(timezone.utc))
        a["account_id"] = PROBE_ID
        a["name"] = HOSTILE
        a["segment"] = HOSTILE
        a["committee"][0]["title"] = HOSTILE
        a["recent"][0]["why"] = HOSTILE
        a["open_tasks"][0]["action"] = HOSTILE
        cls.browser.fulfill(p, 200, a)

    @classmethod
    def intercept(cls, url_patterns):
        cls.browser.call("Fetch.enable", {"patterns": [{"urlPattern": u, "requestStage": "Request"}
                                                       for u in url_patterns]})

    @classmethod
    def maybe_fail_summary(cls, p):
        if cls.fail_summary:
            cls.browser.post("Fetch.failRequest", {"requestId": p["requestId"], "errorReason": "ConnectionRefused"})
            return
        if cls.require_token:
            auth = {k.lower(): v for k, v in p["request"].get("headers", {}).items()}.get("authorization")
            cls.summary_auth.append(auth)
            if auth != "Bearer " + TOKEN:
                cls.browser.fulfill(p, 401, {"error": "a bearer token is required"})
                return
        cls.browser.post("Fetch.continueRequest", {"requestId": p["requestId"]})

    def fail(self, msg=None):
        extra = self.server.diagnostics() if self.server else ""
        super().fail("%s\n%s" % (msg, extra) if extra else msg)

    # -- the JSON contract, as the page relies on it

    def get_json(self, path):
        try:
            with urllib.request.urlopen(self.server.base + path, timeout=5) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def check_contract(self, what, value, schema):
        problems, omitted = [], []
        check(value, schema, "", problems, omitted)
        if omitted:
            type(self).contract_notes.append("%s leaves out (read as zero/empty/null): %s"
                                             % (what, ", ".join(sorted(set(omitted)))))
        self.assertEqual(problems, [], "%s differs from the contract" % what)

    def test_1_summary_contract(self):
        self.wait_recent_ids()  # once there is traffic to sum up
        status, s = self.get_json("/v1/summary")
        self.assertEqual(status, 200)
        self.check_contract("GET /v1/summary", s, SUMMARY_SCHEMA)
        self.assertLessEqual(len(s.get("recent_accounts", [])), 20)
        at = [parse_time(a["at"]) for a in s.get("recent_accounts", []) if isinstance(a.get("at"), str)]
        if at != sorted(at, reverse=True):
            type(self).contract_notes.append("GET /v1/summary: recent_accounts is not ordered by 'at', newest first")
        if MODE != "fixture":
            self.assertEqual([st.get("stage") for st in s["stages"]], STAGES, "every stage, in config order")

    def test_1_served_page(self):
        with urllib.request.urlopen(self.server.base + "/", timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers.get("Content-Type", "").startswith("text/html"))
            served = r.read()
        with open(PAGE, "rb") as f:
            if served != f.read():
                type(self).contract_notes.append("the page served at / is not %s as it is now (rebuild the binary)"
                                                 % os.path.relpath(PAGE, ROOT))

    def test_2_account_contract(self):
        ids = self.wait_recent_ids()
        status, a = self.get_json("/v1/accounts/" + urllib.request.quote(ids[0], safe=""))
        self.assertEqual(status, 200)
        self.assertEqual(a.get("account_id"), ids[0])
        self.check_contract("GET /v1/accounts/{id}", a, ACCOUNT_SCHEMA)
        contacts = [c.get("contact_id") for c in a.get("committee", []) if c.get("contact_id")]
        if len(contacts) != len(set(contacts)):
            type(self).contract_notes.append("GET /v1/accounts/%s: a contact_id more than once in committee" % ids[0])
        self.assertEqual(self.get_json("/v1/accounts/" + UNKNOWN_ID), (404, {"error": "unknown account"}))

    # -- the page

    def wait_recent_ids(self):
        ids = self.browser.wait_for(
            "(() => { const b = [...document.querySelectorAll('#recent button[data-account]')];"
            " return b.length ? b.map((e) => e.dataset.account) : null; })()",
            timeout=25, what="a recently changed account in the list")
        return ids

    def test_3_header_and_funnel(self):
        b = self.browser
        counts = b.wait_for(
            "(() => { const r = [...document.querySelectorAll('#funnel .funnel-row')];"
            " const c = r.map((e) => Number(e.dataset.count));"
            " return c.some((n) => n > 0) ? r.map((e) => [e.dataset.stage, Number(e.dataset.count),"
            " e.querySelector('.count').textContent]) : null; })()",
            timeout=25, what="non-zero counts in the funnel")
        self.assertGreater(sum(c for _, c, _ in counts), 0)
        for stage, n, shown in counts:
            self.assertEqual(shown.replace(",", ""), str(n), "count shown as a number for %s" % stage)
        if MODE != "fixture":
            self.assertEqual([s for s, _, _ in counts], STAGES, "funnel in config order")
        header = b.evaluate("""({instance: document.getElementById('instance').textContent,
            partitions: document.getElementById('partitions').textContent,
            wall: document.getElementById('wall-time').textContent,
            stream: document.getElementById('stream-time').textContent,
            rate: document.getElementById('rate-signals').textContent,
            banner: document.getElementById('banner').hidden})""")
        self.assertNotIn(header["instance"], ("", "—"))
        self.assertRegex(header["partitions"], r"^\d+(–\d+)?(, \d+(–\d+)?)*$|^none$")
        self.assertRegex(header["wall"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")
        self.assertNotEqual(header["rate"], "—")
        self.assertTrue(header["banner"], "no error banner while the endpoints answer")
        overflow = b.evaluate("document.documentElement.scrollWidth")
        self.assertLessEqual(overflow, 1280, "no horizontal scrolling at 1280x800")

    def test_4_click_recent_account(self):
        b = self.browser
        self.wait_recent_ids()
        # The list is redrawn as accounts change: find and click its first entry in one step.
        clicked = b.evaluate("(() => { const e = document.querySelector('#recent button[data-account]');"
                             " e.click(); return e.dataset.account; })()")
        ids = [clicked]
        b.wait_for("location.hash === %s" % js("#account=" + urllib.request.quote(ids[0], safe="")),
                   timeout=5, what="the URL naming the account")
        n = b.wait_for("%s.includes(%s) && %s" % (ACCOUNT_TITLE, js(ids[0]), TIMELINE_ENTRIES),
                       timeout=10, what="the timeline of %s" % ids[0])
        self.assertGreaterEqual(n, 1)
        why = b.evaluate("document.querySelector('#timeline li.entry .why').textContent")
        self.assertTrue(why.startswith("Why: "), why)

    def test_5_search_account_and_screenshot(self):
        b = self.browser
        ids = self.wait_recent_ids()
        target = ids[1] if len(ids) > 1 else ids[0]
        b.type_and_enter("#search-input", target)
        b.wait_for("%s.includes(%s) && %s && document.querySelector('#account dl.facts') !== null"
                   % (ACCOUNT_TITLE, js(target), TIMELINE_ENTRIES),
                   timeout=10, what="the journey of %s after a search" % target)
        order = b.evaluate("[...document.querySelectorAll('#timeline li.entry .head span[title]')]"
                           ".map((e) => Date.parse(e.title))")
        self.assertEqual(order, sorted(order, reverse=True), "timeline newest first")
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        shot = b.call("Page.captureScreenshot", {"format": "png"})
        with open(SCREENSHOT, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        self.assertGreater(os.path.getsize(SCREENSHOT), 10000)

    def test_6_owned_elsewhere_and_unknown(self):
        b = self.browser
        b.type_and_enter("#search-input", ELSEWHERE_ID)
        link = b.wait_for("(() => { const a = document.querySelector('#account-owner a#owner-link');"
                          " return a ? {href: a.getAttribute('href'), text: a.textContent,"
                          " notice: document.getElementById('account-owner').textContent} : null; })()",
                          timeout=10, what="the owner link")
        self.assertEqual(link["href"], OWNER_URL + "/#account=" + ELSEWHERE_ID)
        self.assertEqual(link["text"], OWNER_URL)
        self.assertIn("owned by another instance: " + OWNER_URL, link["notice"])
        b.type_and_enter("#search-input", UNKNOWN_ID)
        text = b.wait_for("(document.getElementById('account-missing') || {}).textContent",
                          timeout=10, what="the unknown-account notice")
        self.assertIn(UNKNOWN_ID, text)
        self.assertIn("unknown account", text)

    def test_7_strings_are_text(self):
        b = self.browser
        b.type_and_enter("#search-input", PROBE_ID)
        b.wait_for("%s.includes(%s) && %s" % (ACCOUNT_TITLE, js(HOSTILE), TIMELINE_ENTRIES),
                   timeout=10, what="the probe account")
        r = b.evaluate("""({pwned: window.__pwned || 0,
            imgs: document.querySelectorAll('#account img, #account script').length,
            why: [...document.querySelectorAll('#timeline .why')].map((e) => e.textContent)})""")
        self.assertEqual(r["pwned"], 0)
        self.assertEqual(r["imgs"], 0)
        self.assertIn("Why: " + HOSTILE, r["why"])

    def test_8_hash_on_load_and_error_banner(self):
        b = self.browser
        ids = self.wait_recent_ids()
        b.evaluate("location.hash = %s" % js("account=" + ids[0]))
        b.reload()
        b.wait_for("%s.includes(%s) && %s" % (ACCOUNT_TITLE, js(ids[0]), TIMELINE_ENTRIES),
                   timeout=10, what="#account=%s opening on load" % ids[0])
        type(self).expected_errors.append(("/v1/summary", "ERR_CONNECTION_REFUSED"))
        type(self).fail_summary = True
        self.intercept(self.intercepted + ["*/v1/summary"])
        try:
            text = b.wait_for("!document.getElementById('banner').hidden && document.getElementById('banner').textContent",
                              timeout=10, what="the error banner")
            self.assertIn("v1/summary", text)
            self.assertIn("retrying", text)
        finally:
            type(self).fail_summary = False
            self.intercept(self.intercepted)
        b.wait_for("document.getElementById('banner').hidden", timeout=10, what="the banner to clear on the next good fetch")
        # The account stays open across the failure.
        self.assertIn(ids[0], b.evaluate(ACCOUNT_TITLE))

    def test_85_access_token(self):
        """An instance that requires a bearer token: the page asks for it once and sends it."""
        b = self.browser
        cls = type(self)
        cls.expected_errors.append(("/v1/summary", "401"))
        cls.require_token = True
        self.intercept(self.intercepted + ["*/v1/summary"])
        try:
            b.wait_for("!document.getElementById('auth').hidden && !document.getElementById('banner').hidden",
                       timeout=10, what="the access-token form")
            self.assertIn("401", b.evaluate("document.getElementById('banner').textContent"))
            b.type_and_enter("#auth-token", TOKEN)
            b.wait_for("document.getElementById('auth').hidden && document.getElementById('banner').hidden",
                       timeout=10, what="the summary answering with the token")
            self.assertEqual(cls.summary_auth[-1], "Bearer " + TOKEN)
            self.assertIn(None, cls.summary_auth)
        finally:
            cls.require_token = False
            self.intercept(self.intercepted)

    def test_9_no_console_errors(self):
        b = self.browser
        b.evaluate("1")  # takes in events sent so far
        unexpected = []
        for kind, text, url in b.console:
            if kind in ("console.error", "console.assert", "exception") or kind == "log.error":
                if any(u in url and t in text for u, t in self.expected_errors):
                    continue
                unexpected.append((kind, text, url))
            elif kind in ("console.warning", "log.warning"):
                unexpected.append((kind, text, url))
        self.assertEqual(unexpected, [], "console errors, warnings or uncaught exceptions")


def main():
    global MODE
    args = sys.argv[1:]
    if "--serve-fixture" in args:
        i = args.index("--serve-fixture")
        port = int(args[i + 1]) if i + 1 < len(args) else 8000
        server = FixtureServer(port)
        print("console with fixture JSON at %s/" % server.base, flush=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            server.stop()
        return
    if "--fixture" in args:
        args.remove("--fixture")
        MODE = "fixture"
    if "--engine" in args:
        args.remove("--engine")
        MODE = "engine"
    if MODE not in ("engine", "fixture"):
        sys.exit("CONSOLE_TEST_MODE is engine or fixture, not %r" % MODE)
    unittest.main(argv=[sys.argv[0]] + args, verbosity=2)


if __name__ == "__main__":
    main()
