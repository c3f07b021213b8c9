"""deploy/systemd/demandcenter.service: parsed (sections, keys, the
engine's command line, hardening) and, where systemd-analyze is installed,
verified by it."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import support

UNIT = os.path.join(support.DEPLOY, "systemd", "demandcenter.service")
INSTALLED_BIN = "/usr/local/bin/demandcenter"


def parse_unit(path):
    """{section: {key: [values]}} — keys may repeat; a trailing backslash
    continues a line."""
    sections, current, pending = {}, None, ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if pending:
                line = pending + " " + line.strip()
                pending = ""
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.endswith("\\"):
                pending = stripped[:-1].rstrip()
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", stripped)
            if m:
                current = sections.setdefault(m.group(1), {})
                continue
            if current is None or "=" not in stripped:
                raise AssertionError(f"{path}: not a unit-file line: {stripped!r}")
            key, value = stripped.split("=", 1)
            current.setdefault(key.strip(), []).append(value.strip())
    if pending:
        raise AssertionError(f"{path}: ends inside a continued line")
    return sections


class SystemdUnitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.unit = parse_unit(UNIT)
        cls.service = cls.unit["Service"]

    def value(self, key, section="Service"):
        values = self.unit[section].get(key)
        self.assertTrue(values, f"[{section}] has no {key}")
        return values[-1]

    def test_sections(self):
        self.assertEqual(set(self.unit), {"Unit", "Service", "Install"})
        self.assertTrue(self.value("Description", "Unit"))
        self.assertIn("multi-user.target", self.value("WantedBy", "Install"))
        self.assertIn("network-online.target", self.value("After", "Unit"))

    def test_engine_command_line(self):
        args = shlex.split(self.value("ExecStart"))
        self.assertEqual(args[0], INSTALLED_BIN)
        self.assertEqual(args[1], "run")
        help_text = subprocess.run([support.BIN, "run", "--help"], capture_output=True, text=True,
                                   timeout=30).stdout
        flags = [a for a in args[2:] if a.startswith("--")]
        for f in flags:
            self.assertIn(f, help_text, f"run has no flag {f}")
        self.assertIn("--config", flags)
        # The state directory systemd creates is the one the engine is given.
        state_dir = args[args.index("--state-dir") + 1]
        self.assertEqual(state_dir, "/var/lib/" + self.value("StateDirectory"))
        # Every ${VAR} has a default in the unit.
        defaults = {v.split("=", 1)[0] for v in self.service.get("Environment", [])}
        for var in re.findall(r"\$\{(\w+)\}", " ".join(self.service["ExecStart"] + self.service["ExecStartPre"])):
            self.assertIn(var, defaults, f"${{{var}}} has no Environment= default")
        # The config is checked before the engine starts.
        pre = shlex.split(self.value("ExecStartPre"))
        self.assertEqual(pre[:2], [INSTALLED_BIN, "validate"])

    def test_restart_and_stop(self):
        self.assertEqual(self.value("Restart"), "on-failure")
        self.assertEqual(self.value("KillSignal"), "SIGTERM")
        # The engine stops cleanly within 5 s of SIGTERM; systemd waits longer.
        self.assertGreaterEqual(int(self.value("TimeoutStopSec")), 10)
        with open(os.path.join(support.ROOT, "src", "app", "main.cc"), encoding="utf-8") as f:
            handles_hup = "SIGHUP" in f.read()
        if not handles_hup:
            # SIGHUP's default action would end the engine, and systemd
            # counts that as a clean exit: no restart.
            self.assertNotIn("ExecReload", self.service)

    def test_dedicated_user_and_hardening(self):
        self.assertNotIn(self.value("User"), ("root", "0"))
        self.assertNotIn("DynamicUser", self.service)
        expected = {
            "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
            "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
            "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
            "StateDirectory": "demandcenter", "StateDirectoryMode": "0700",
        }
        for key, want in expected.items():
            self.assertEqual(self.value(key), want, key)
        self.assertEqual(self.service["CapabilityBoundingSet"], [""])
        self.assertIn("@system-service", self.service["SystemCallFilter"])

    def verify_copy(self):
        """The unit with ExecStart pointing at the built binary (verify
        checks that the command exists)."""
        with open(UNIT, encoding="utf-8") as f:
            text = f.read().replace(INSTALLED_BIN, os.path.abspath(support.BIN))
        d = tempfile.mkdtemp(prefix="dc-unit-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "demandcenter.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        self.assertIsNotNone(tool, "systemd-analyze is missing (scripts/setup.sh installs systemd)")
        r = subprocess.run([tool, "verify", self.verify_copy()], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # verify exits 0 on unknown keys and bad values: it only warns.
        self.assertEqual(r.stdout + r.stderr, "", "systemd-analyze verify warns")

    def test_systemd_analyze_security(self):
        tool = shutil.which("systemd-analyze")
        self.assertIsNotNone(tool, "systemd-analyze is missing (scripts/setup.sh installs systemd)")
        r = subprocess.run([tool, "security", "--offline=yes", "--no-pager", self.verify_copy()],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for demandcenter\.service: ([0-9.]+)", r.stdout + r.stderr)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, "the unit is less hardened than expected")


if __name__ == "__main__":
    unittest.main(verbosity=2)
