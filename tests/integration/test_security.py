"""Kafka security against a real SASL/SCRAM listener (run with
/usr/bin/python3; DEMANDCENTER_BIN names the engine, as in harness.py).

Starts its own one-node cluster with `deploy/local/kafka.sh start --sasl`
(a SASL_PLAINTEXT listener with SCRAM-SHA-256 and a SCRAM user) in a run
dir and on ports of its own, so it never meets the plain broker of the
other integration tests, and stops it at the end. Topics are created and
signals produced and read back on the cluster's PLAINTEXT listener; only
the engine logs in, with `kafka.security` in its config and the password in
an environment variable:

1. the right password: the engine authenticates, consumes every signal and
   commits exactly replay's outputs; the password appears nowhere in its log
   or HTTP answers;
2. a wrong password: the engine exits with code 1 within seconds, saying on
   stderr that Kafka refused the credentials, and the wrong password appears
   neither there nor in /metrics;
3. the variable not set: exit code 1 at once, naming the variable.

A cluster that cannot be started fails the tests; nothing is skipped."""

import os
import secrets
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

KAFKA_SH = os.path.join(harness.ROOT, "deploy", "local", "kafka.sh")
# A run dir and ports of this test's own (controllers on PORT+10000).
CLUSTER_ENV = {
    "DEMANDCENTER_KAFKA_DIR": os.environ.get("DEMANDCENTER_SECURITY_KAFKA_DIR", "/tmp/demandcenter-kafka-security"),
    "DEMANDCENTER_KAFKA_PORT": os.environ.get("DEMANDCENTER_SECURITY_KAFKA_PORT", "9492"),
    "DEMANDCENTER_KAFKA_SASL_PORT": os.environ.get("DEMANDCENTER_SECURITY_KAFKA_SASL_PORT", "9592"),
}
USER = "demandcenter"
PASSWORD = secrets.token_urlsafe(18)
PASSWORD_ENV = "DC_IT_KAFKA_PASSWORD"
# How long a wrong password may keep the engine running.
WRONG_PASSWORD_BOUND_S = 20


def kafka_sh(*args, env_extra=None, timeout=300):
    env = dict(os.environ, **CLUSTER_ENV, **(env_extra or {}))
    return subprocess.run([KAFKA_SH, *args], env=env, stdout=subprocess.PIPE, text=True, timeout=timeout,
                          check=True).stdout


class SecureApp(harness.App):
    """An App whose engine connects to `bootstrap` with `security` (the
    kafka.security keys); the tests' own clients use harness.BOOTSTRAP."""

    def __init__(self, name, bootstrap, security, **kwargs):
        self.engine_bootstrap = bootstrap
        self.security = security
        super().__init__(name, **kwargs)

    def _write_config(self):
        super()._write_config()
        with open(self.config_path) as f:
            text = f.read()
        section = "".join(f"    {k}: {v}\n" for k, v in self.security.items())
        plain = f"  bootstrap_servers: {harness.BOOTSTRAP}\n"
        assert plain in text, "the harness's config has no bootstrap_servers line"
        text = text.replace(plain, f"  bootstrap_servers: {self.engine_bootstrap}\n  security:\n{section}", 1)
        with open(self.config_path, "w") as f:
            f.write(text)

    def run_alone(self, env_extra, http_port):
        """Starts `run` with stderr to a file of its own; returns the process
        and the file's path."""
        path = os.path.join(self.workdir, "stderr.log")
        with open(path, "wb") as err:
            proc = subprocess.Popen(
                [harness.BIN, "run", "--config", self.config_path, "--state-dir", os.path.join(self.workdir, "state"),
                 "--http-bind", f"127.0.0.1:{http_port}"],
                stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ, **env_extra))
        self.instances["0"] = (proc, http_port)
        return proc, path


def http_get(port, path):
    """(status, body) of GET path, whatever the status."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def sasl_security(password_env):
    return {"protocol": "sasl_plaintext", "sasl_mechanism": "SCRAM-SHA-256", "username": USER,
            "password_env": password_env}


class SecurityTest(harness.AppTestCase):
    @classmethod
    def setUpClass(cls):
        started = time.time()
        kafka_sh("stop")  # a cluster left in this run dir has another password
        cls.addClassCleanup(kafka_sh, "stop")  # also when the start fails half-way
        lines = kafka_sh("start", "--sasl", env_extra={"DEMANDCENTER_KAFKA_SASL_PASSWORD": PASSWORD}).split()
        assert len(lines) >= 2, f"kafka.sh start --sasl printed {lines}"
        cls.plain, cls.sasl = lines[-2], lines[-1]
        harness.BOOTSTRAP = cls.plain
        print(f"\n  SASL cluster: plaintext {cls.plain}, SASL_PLAINTEXT {cls.sasl} "
              f"(started in {time.time() - started:.1f}s)", file=sys.stderr)

    def new_app(self, name, security):
        app = SecureApp(name, self.sasl, security, partitions=3)
        self.apps.append(app)
        return app

    def test_1_right_password_commits_outputs(self):
        app = self.new_app("sasl", sasl_security(PASSWORD_ENV))
        path = app.generate(300, 3000, seed=5)
        expected = app.replay(path)
        self.assertGreater(harness.count(expected), 0)
        app.produce(path)
        os.environ[PASSWORD_ENV] = PASSWORD  # inherited by the engine
        try:
            started = time.time()
            app.start("0")
            app.wait_consumed(timeout=120)
            print(f"\n  SASL/SCRAM: 3000 signals consumed and committed in {time.time() - started:.1f}s",
                  file=sys.stderr)
        finally:
            del os.environ[PASSWORD_ENV]
        self.assertOutputsEqual(app, expected)
        _, port = app.instances["0"]
        for what in ("/metrics", "/readyz", "/healthz", "/nothing"):
            status, body = http_get(port, what)
            self.assertNotIn(PASSWORD, body, what)
        status, _ = http_get(port, "/readyz")
        self.assertEqual(status, 200)
        log = app.log("0")
        self.assertIn(f"sasl_plaintext, SCRAM-SHA-256 as user {USER}, password from ${PASSWORD_ENV}", log)
        self.assertNotIn(PASSWORD, log)

    def test_2_wrong_password_stops_within_seconds(self):
        wrong = "wrong-" + secrets.token_hex(8)
        env_name = "DC_IT_WRONG_KAFKA_PASSWORD"
        app = self.new_app("saslwrong", sasl_security(env_name))
        port = harness.free_port()
        started = time.time()
        proc, stderr_path = app.run_alone({env_name: wrong}, port)
        # While it runs: /metrics and /readyz, as often as they answer.
        bodies, ready = [], []
        while proc.poll() is None and time.time() - started < WRONG_PASSWORD_BOUND_S:
            for what in ("/metrics", "/readyz"):
                try:
                    status, body = http_get(port, what)
                except OSError:
                    continue  # not listening yet, or gone
                bodies.append(body)
                if what == "/readyz":
                    ready.append(status)
            time.sleep(0.05)
        elapsed = time.time() - started
        self.assertIsNotNone(proc.poll(), f"still running {WRONG_PASSWORD_BOUND_S}s after a wrong password")
        with open(stderr_path, errors="replace") as f:
            stderr = f.read()
        # The engine's last word (librdkafka may still log while its clients close).
        said = [line for line in stderr.splitlines() if line.startswith("run: ")]
        print(f"\n  wrong password: exit code {proc.returncode} after {elapsed:.1f}s; "
              f"{len(bodies)} HTTP answers read meanwhile; {said[-1] if said else 'no run: line'}", file=sys.stderr)
        self.assertEqual(proc.returncode, 1, stderr[-2000:])
        self.assertEqual(len(said), 1, stderr[-2000:])
        self.assertTrue(said[0].startswith("run: Kafka refused the credentials (sasl_plaintext, SCRAM-SHA-256 as "
                                           f"user {USER}, password from ${env_name}): "), said[0])
        self.assertIn("Authentication failed", said[0])
        self.assertNotIn(200, ready)
        self.assertNotIn(wrong, stderr)
        for body in bodies:
            self.assertNotIn(wrong, body)

    def test_3_password_variable_not_set(self):
        env_name = "DC_IT_UNSET_KAFKA_PASSWORD"
        app = self.new_app("saslunset", sasl_security(env_name))
        env = {k: v for k, v in os.environ.items() if k != env_name}
        started = time.time()
        result = subprocess.run([harness.BIN, "run", "--config", app.config_path, "--state-dir",
                                 os.path.join(app.workdir, "state"), "--http-bind", f"127.0.0.1:{harness.free_port()}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertLess(time.time() - started, 10)
        self.assertIn(f"run: kafka.security.password_env: the environment variable {env_name} is not set",
                      result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
