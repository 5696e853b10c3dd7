"""Render a Kustomize directory in Python, for the manifest tests on machines without kustomize.

Only what deploy/k8s/ uses, and it refuses anything else (so a kustomization that starts using more
fails the tests loudly instead of being rendered wrong): ``resources`` (files, or directories with a
kustomization.yaml), ``namespace``, ``images`` (newName/newTag) and ``patches`` given by ``path``
(strategic merge: maps merged key by key, lists of named items merged by ``name``, other lists
replaced). Where ``kubectl kustomize`` exists the tests also compare the two renderings.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, Iterable, List

import yaml

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
}
Manifest = Dict[str, Any]


def _documents(path: Path) -> List[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _pod_specs(obj: Manifest) -> Iterable[Manifest]:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        yield spec["jobTemplate"]["spec"]["template"]["spec"]
    elif obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        yield spec["template"]["spec"]
    elif obj["kind"] == "Pod":
        yield spec


def _set_image(obj: Manifest, rule: Dict[str, str]) -> None:
    for pod in _pod_specs(obj):
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name == rule["name"]:
                container["image"] = f"{rule.get('newName', name)}:{rule.get('newTag', tag or 'latest')}"


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and base
        and patch
        and all(isinstance(i, dict) and "name" in i for i in base + patch)
    ):
        out = [copy.deepcopy(i) for i in base]
        for item in patch:
            match = next((n for n, old in enumerate(out) if old["name"] == item["name"]), None)
            if match is None:
                out.append(copy.deepcopy(item))
            else:
                out[match] = _merge(out[match], item)
        return out
    return copy.deepcopy(patch)


def render(directory: Path) -> List[Manifest]:
    """The manifests ``kustomize build directory`` would produce (same objects; order not kept)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED_KEYS
    if unsupported:
        raise ValueError(f"{directory}: kustomization keys this renderer does not know: {sorted(unsupported)}")
    objects: List[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else _documents(path)
    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise ValueError(f"{directory}: only patches given by path are supported: {patch_entry}")
        for patch in _documents(directory / patch_entry["path"]):
            targets = [
                n
                for n, o in enumerate(objects)
                if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]
            ]
            if len(targets) != 1:
                raise ValueError(
                    f"{directory}: patch {patch['kind']}/{patch['metadata']['name']} matches " f"{len(targets)} objects"
                )
            objects[targets[0]] = _merge(objects[targets[0]], patch)
    for rule in kustomization.get("images", []):
        for obj in objects:
            _set_image(obj, rule)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return objects
