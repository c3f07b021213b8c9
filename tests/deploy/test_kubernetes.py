"""deploy/kubernetes: the manifests parsed and cross-checked — kinds,
selectors, probes and ports, the state volume at the config's state
directory, the ConfigMap a config `demandcenter validate` accepts."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

import support

K8S = os.path.join(support.DEPLOY, "kubernetes")


def load_manifests():
    docs = {}
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        if os.path.basename(path) == "kustomization.yaml":
            continue
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    docs.setdefault(doc["kind"], []).append((os.path.basename(path), doc))
    return docs


def flag(args, name):
    """The value after `name` in a command line, or None."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = load_manifests()
        one = lambda kind: cls.docs[kind][0][1] if kind in cls.docs else None  # noqa: E731
        cls.sts, cls.svc, cls.pdb, cls.cm = (one(k) for k in
                                             ("StatefulSet", "Service", "PodDisruptionBudget", "ConfigMap"))
        cls.pod = cls.sts["spec"]["template"]
        cls.container = cls.pod["spec"]["containers"][0]
        cls.args = list(cls.container.get("command", [])) + list(cls.container.get("args", []))

    def config_text(self):
        volume = next(v for v in self.pod["spec"]["volumes"] if "configMap" in v)
        mount = next(m for m in self.container["volumeMounts"] if m["name"] == volume["name"])
        config_path = flag(self.args, "--config")
        self.assertIsNotNone(config_path, "the container passes no --config")
        self.assertEqual(os.path.dirname(config_path), mount["mountPath"].rstrip("/"))
        key = os.path.basename(config_path)
        self.assertEqual(volume["configMap"]["name"], self.cm["metadata"]["name"])
        self.assertIn(key, self.cm["data"], f"the ConfigMap has no key {key}")
        return self.cm["data"][key]

    def test_kinds(self):
        for kind in ("Namespace", "ConfigMap", "Service", "StatefulSet", "PodDisruptionBudget"):
            self.assertIn(kind, self.docs)
        namespaces = {d["metadata"].get("namespace") for kind, ds in self.docs.items() if kind != "Namespace"
                      for _, d in ds}
        self.assertEqual(namespaces, {self.docs["Namespace"][0][1]["metadata"]["name"]})

    def test_kustomization_lists_every_manifest(self):
        with open(os.path.join(K8S, "kustomization.yaml"), encoding="utf-8") as f:
            kustomization = yaml.safe_load(f)
        files = {name for ds in self.docs.values() for name, _ in ds}
        self.assertEqual(set(kustomization["resources"]), files)

    def test_selectors_match_pod_labels(self):
        labels = self.pod["metadata"]["labels"]
        for what, selector in (("StatefulSet", self.sts["spec"]["selector"]["matchLabels"]),
                               ("Service", self.svc["spec"]["selector"]),
                               ("PodDisruptionBudget", self.pdb["spec"]["selector"]["matchLabels"])):
            self.assertTrue(selector, what)
            for k, v in selector.items():
                self.assertEqual(labels.get(k), v, f"{what} selects {k}={v}; the pods have {labels}")

    def test_headless_service(self):
        self.assertEqual(self.svc["spec"]["clusterIP"], "None")
        self.assertEqual(self.sts["spec"]["serviceName"], self.svc["metadata"]["name"])
        self.assertIn("maxUnavailable", self.pdb["spec"])

    def test_http_bind_ports_and_probes(self):
        bind = flag(self.args, "--http-bind")
        self.assertEqual(bind, "0.0.0.0:8080")
        port = int(bind.rsplit(":", 1)[1])
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}

        def resolve(p):
            return ports[p] if isinstance(p, str) else p

        self.assertIn(port, ports.values())
        live, ready = self.container["livenessProbe"]["httpGet"], self.container["readinessProbe"]["httpGet"]
        self.assertEqual(live["path"], "/healthz")
        self.assertEqual(ready["path"], "/readyz")
        self.assertEqual(resolve(live["port"]), port)
        self.assertEqual(resolve(ready["port"]), port)
        svc_port = self.svc["spec"]["ports"][0]
        self.assertEqual(resolve(svc_port.get("targetPort", svc_port["port"])), port)
        annotations = self.pod["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/scrape"], "true")
        self.assertEqual(int(annotations["prometheus.io/port"]), port)
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_command_line_is_the_engines(self):
        self.assertTrue(self.args[0].endswith("demandcenter"))
        self.assertEqual(self.args[1], "run")
        help_text = subprocess.run([support.BIN, "run", "--help"], capture_output=True, text=True,
                                   timeout=30).stdout
        for a in self.args[2:]:
            if a.startswith("--"):
                self.assertIn(a.split("=")[0], help_text, f"run has no flag {a}")
        env = {e["name"] for e in self.container.get("env", [])}
        for a in self.args:
            if a.startswith("$(") and a.endswith(")"):
                self.assertIn(a[2:-1], env, f"{a} names no variable of the container")
        # Each pod its own instance id: the pod's name.
        instance = flag(self.args, "--instance-id")
        pod_name = next(e for e in self.container["env"] if e["name"] == instance[2:-1])
        self.assertEqual(pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name")

    def test_state_volume_at_the_configs_state_dir(self):
        config = yaml.safe_load(self.config_text())
        state_dir = flag(self.args, "--state-dir") or config["state"]["dir"]
        self.assertEqual(state_dir.rstrip("/"), config["state"]["dir"].rstrip("/"),
                         "--state-dir and the config's state.dir differ")
        claims = {c["metadata"]["name"]: c for c in self.sts["spec"]["volumeClaimTemplates"]}
        mounts = {m["mountPath"].rstrip("/"): m for m in self.container["volumeMounts"]}
        self.assertIn(state_dir.rstrip("/"), mounts, "nothing is mounted at the state directory")
        mount = mounts[state_dir.rstrip("/")]
        self.assertIn(mount["name"], claims, "the state directory is not a volume claim")
        self.assertFalse(mount.get("readOnly", False))
        self.assertIn("ReadWriteOnce", claims[mount["name"]]["spec"]["accessModes"])
        self.assertTrue(claims[mount["name"]]["spec"]["resources"]["requests"]["storage"])

    def test_configmap_is_a_valid_engine_config(self):
        text = self.config_text()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "demandcenter.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            r = subprocess.run([support.BIN, "validate", "--config", path], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_configmap_is_up_to_date(self):
        r = subprocess.run([os.path.join(K8S, "update-configmap.sh"),
                            os.path.join(support.DEPLOY, "config", "demandcenter.yaml"), "-"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(K8S, "configmap.yaml"), encoding="utf-8") as f:
            self.assertEqual(f.read(), r.stdout, "deploy/kubernetes/configmap.yaml differs from "
                             "deploy/config/demandcenter.yaml: run deploy/kubernetes/update-configmap.sh")


if __name__ == "__main__":
    unittest.main(verbosity=2)
