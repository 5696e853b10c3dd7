"""The Kubernetes manifests (deploy/k8s/): each overlay renders, every object passes the Kubernetes
1.28 schemas (strict), and the rendered objects keep the deployment's promises: only the patient
routes public, the review app and the action server private, NetworkPolicies in place, probes on
the documented endpoints, the ConfigMap in step with the repository's endpoints and credentials."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import kubernetes_validate
import pytest
import yaml

from tests.kustomize_lite import render

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["prod", "dev"]
KUBERNETES_VERSION = "1.28.0"
SECRET_EXAMPLE = K8S / "overlays" / "prod" / "secret.example.yaml"


def rendered(overlay: str) -> List[dict]:
    return render(K8S / "overlays" / overlay)


def by_kind(objects: List[dict], kind: str) -> Dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def workloads(objects: List[dict]) -> List[dict]:
    return [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob")]


@pytest.mark.integration  # the Kubernetes schemas, loaded and checked object by object: not the inner loop
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_passes_the_kubernetes_schema(overlay):
    objects = rendered(overlay)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.integration  # the Kubernetes schemas, loaded and checked object by object: not the inner loop
def test_the_secret_example_passes_the_schema_and_holds_placeholders_only():
    (secret,) = [d for d in yaml.safe_load_all(SECRET_EXAMPLE.read_text()) if d]
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert all(
        "REPLACE" in v or v.endswith("example.org") or "example.org:" in v for v in secret["stringData"].values()
    )


@pytest.mark.integration  # the Kubernetes schemas, loaded and checked object by object: not the inner loop
def test_a_broken_manifest_is_refused_by_the_schema_check():
    deployment = dict(by_kind(rendered("prod"), "Deployment")["spine-clinic-rasa"])
    deployment["spec"] = dict(deployment["spec"], replicas="two")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.integration  # runs kubectl: not the inner loop
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed: renderer not cross-checked")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_python_renderer_agrees_with_kubectl_kustomize(overlay):
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    key = lambda o: (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])  # noqa: E731
    assert {key(o): o for o in yaml.safe_load_all(out) if o} == {key(o): o for o in rendered(overlay)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_exposes_only_the_patient_channel_of_the_rasa_service(overlay):
    ingresses = by_kind(rendered(overlay), "Ingress")
    assert len(ingresses) == 1
    (ingress,) = ingresses.values()
    assert ingress["spec"]["tls"], "TLS at the ingress"
    assert "defaultBackend" not in ingress["spec"]
    routes = [
        (p["path"], p["backend"]["service"]["name"], p["backend"]["service"]["port"])
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert routes == [("/webhooks/patient/", "spine-clinic-rasa", {"name": "http"})]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_keep_rasa_actions_and_review_private(overlay):
    policies = by_kind(rendered(overlay), "NetworkPolicy")
    deny = policies["spine-clinic-default-deny"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and not deny.get("ingress")

    def sources(app: str) -> List[dict]:
        out = []
        for p in policies.values():
            if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == app:
                out += [src for rule in p["spec"].get("ingress", []) for src in rule["from"]]
        return out

    assert sources("spine-clinic-rasa") == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
        }
    ]
    rasa_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "spine-clinic-rasa"}}}
    assert sources("spine-clinic-actions") == [rasa_pods]
    assert sources("spine-clinic-review") == [{"podSelector": {"matchLabels": {"spine-clinic/staff-access": "true"}}}]
    # No rule lets everything in (an empty "from" or an empty selector).
    for p in policies.values():
        for rule in p["spec"].get("ingress", []):
            assert rule.get("from") and all(src for src in rule["from"]), p["metadata"]["name"]


def test_the_rasa_deployment_is_replicated_probed_and_bounded():
    objects = rendered("prod")
    rasa = by_kind(objects, "Deployment")["spine-clinic-rasa"]
    assert rasa["spec"]["replicas"] >= 2
    assert rasa["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = pod_spec(rasa)["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/webhooks/patient/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/webhooks/patient/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/webhooks/patient/live"
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["spine-clinic-rasa"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "spine-clinic-rasa" and hpa["spec"]["minReplicas"] >= 2
    pdb = by_kind(objects, "PodDisruptionBudget")["spine-clinic-rasa"]
    assert pdb["spec"]["selector"]["matchLabels"] == rasa["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["minAvailable"] < rasa["spec"]["replicas"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_unprivileged_and_has_a_memory_limit(overlay):
    for obj in workloads(rendered(overlay)):
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True, obj["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, obj["metadata"]["name"]
        for c in spec["containers"] + spec.get("initContainers", []):
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, c["name"]
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], c["name"]
            assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["memory"], c["name"]


def test_the_production_overlay_runs_no_database_and_carries_no_secret():
    objects = rendered("prod")
    assert not by_kind(objects, "Secret")
    assert not by_kind(objects, "StatefulSet")
    images = {
        c["image"]
        for o in workloads(objects)
        for c in pod_spec(o)["containers"] + pod_spec(o).get("initContainers", [])
    }
    assert images and all(i.startswith("registry.clinic.example.org/spine-clinic-") for i in images), images


def test_the_dev_overlay_runs_postgres_and_redis_reachable_only_by_the_app():
    objects = rendered("dev")
    assert "spine-clinic-postgres" in by_kind(objects, "StatefulSet")
    assert "spine-clinic-redis" in by_kind(objects, "Deployment")
    policies = by_kind(objects, "NetworkPolicy")
    assert {"spine-clinic-postgres-from-app", "spine-clinic-redis-from-rasa"} <= set(policies)
    dev_secrets = by_kind(objects, "Secret")["spine-clinic-secrets"]["stringData"]
    assert all("dev-only" in v or "spine-clinic-" in v for v in dev_secrets.values())


def test_the_configmap_carries_the_repository_endpoints_and_credentials():
    files = by_kind(rendered("prod"), "ConfigMap")["spine-clinic-files"]["data"]
    assert files["endpoints.yml"] == (ROOT / "endpoints.cluster.yml").read_text()
    assert files["credentials.yml"] == (ROOT / "credentials.yml").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_endpoints_need_is_provided(overlay):
    objects = rendered(overlay)
    env = set(by_kind(objects, "ConfigMap")["spine-clinic-env"]["data"])
    secrets = by_kind(objects, "Secret") or {
        "example": next(d for d in yaml.safe_load_all(SECRET_EXAMPLE.read_text()) if d)
    }
    env |= set(secrets["spine-clinic-secrets" if overlay == "dev" else "example"]["stringData"])
    text = "\n".join(line.split("#")[0] for line in (ROOT / "endpoints.cluster.yml").read_text().splitlines())
    wanted = set(re.findall(r"\$\{(\w+)\}", text))
    assert wanted and wanted <= env, wanted - env


def test_the_retention_cronjob_runs_the_review_cli_and_waits_for_a_policy():
    cron = by_kind(rendered("prod"), "CronJob")["spine-clinic-retention"]
    assert cron["spec"]["suspend"] is True  # until the clinic sets RETENTION_DAYS
    assert pod_spec(cron)["containers"][0]["command"] == ["python", "-m", "review.cli", "retention"]
