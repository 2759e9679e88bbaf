"""Small builders for move tests: objects shaped as the API server returns them (uid, resourceVersion, status),
and the upstream KubeVirt fixtures from shared/fixtures/upstream/kubevirt with placeholders substituted."""

import copy
import itertools
import pathlib

import yaml
from tests import shared

FIXTURES = shared.FIXTURES / "kubevirt"
_counter = itertools.count(1)


def served(obj, namespace=None):
    """Add the metadata the server assigns."""
    obj = copy.deepcopy(obj)
    md = obj.setdefault("metadata", {})
    n = next(_counter)
    if namespace is not None and obj.get("kind") not in ("Namespace", "StorageClass", "CSIDriver", "StorageProfile",
                                                         "VolumeSnapshotClass", "PersistentVolume", "CDI", "KubeVirt"):
        md["namespace"] = namespace
    md.setdefault("uid", f"00000000-0000-4000-8000-{n:012d}")
    md.setdefault("resourceVersion", str(1000 + n))
    md.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
    if obj.get("kind") in ("VirtualMachine", "DataVolume", "NetworkPolicy", "VirtualMachineInstancetype",
                           "VirtualMachinePreference", "NetworkAttachmentDefinition"):
        md.setdefault("generation", 1)
    return obj


def load_fixture(rel, storage_class="standard"):
    """Every object in a fixture file (Lists unwrapped), the KVP placeholder replaced by `storage_class`."""
    text = (FIXTURES / rel).read_text().replace("{{KVP_STORAGE_CLASS}}", storage_class)
    out = []
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        if doc.get("kind") == "List":
            out += doc.get("items") or []
        else:
            out.append(doc)
    return out


def namespace(name, labels=None):
    return served({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}})


def vm(name, ns="src", disks=(), running=False, labels=None, template_labels=None, volumes=(), disks_spec=None,
       interfaces=None, networks=None, extra_spec=None, status=None, annotations=None, run_strategy=None):
    """A VM with persistentVolumeClaim volumes named after `disks` (claim names), plus extra `volumes`."""
    vols = [{"name": d, "persistentVolumeClaim": {"claimName": d}} for d in disks] + list(volumes)
    devices = {"disks": disks_spec if disks_spec is not None else [{"name": v["name"], "disk": {"bus": "virtio"}}
                                                                    for v in vols]}
    if interfaces is not None:
        devices["interfaces"] = interfaces
    tspec = {"domain": {"devices": devices, "resources": {"requests": {"memory": "1Gi"}}}, "volumes": vols}
    if networks is not None:
        tspec["networks"] = networks
    spec = {"runStrategy": run_strategy or ("Always" if running else "Halted"),
            "template": {"metadata": {"labels": dict(template_labels or {"app": name})}, "spec": tspec}}
    spec.update(extra_spec or {})
    md = {"name": name, "labels": labels or {}}
    if annotations:
        md["annotations"] = annotations
    obj = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": md, "spec": spec,
           "status": status if status is not None else (
               {"printableStatus": "Running", "ready": True, "created": True} if running
               else {"printableStatus": "Stopped"})}
    return served(obj, ns)


def pvc(name, ns="src", size="10Gi", sc="standard", mode=None, phase="Bound", labels=None, owner=None,
        volume=None, finalizers=None, annotations=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "storageClassName": sc,
            "volumeMode": mode or "Filesystem", "volumeName": volume or f"pv-{ns}-{name}"}
    md = {"name": name, "labels": labels or {}}
    if owner:
        md["ownerReferences"] = [owner]
    if finalizers:
        md["finalizers"] = finalizers
    if annotations:
        md["annotations"] = annotations
    status = {"phase": phase}
    if phase == "Bound":
        status["capacity"] = {"storage": size}
    return served({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": md, "spec": spec,
                   "status": status}, ns)


def owner_ref(obj, controller=True):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": controller}


def dv(name, ns="src", phase="Succeeded", owner=None, size="10Gi", sc="standard"):
    md = {"name": name}
    if owner:
        md["ownerReferences"] = [owner]
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": md,
                   "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": size}},
                                                                 "storageClassName": sc}},
                   "status": {"phase": phase}}, ns)


def pv(name, policy="Delete", csi_secret_ns=None):
    spec = {"persistentVolumeReclaimPolicy": policy, "capacity": {"storage": "10Gi"}}
    if csi_secret_ns:
        spec["csi"] = {"driver": "csi.example.com", "volumeHandle": name,
                       "nodeStageSecretRef": {"name": "ceph-secret", "namespace": csi_secret_ns}}
    return served({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec})


def secret(name, ns="src"):
    # As a metadata-only list returns it: no data, no type.
    return served({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}, ns)


def configmap(name, ns="src"):
    return served({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}, ns)


def serviceaccount(name, ns="src"):
    return served({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name},
                   "secrets": [{"name": f"{name}-token-abcde"}]}, ns)


def service(name, selector, ns="src", svc_type="ClusterIP", node_port=None, cluster_ip="10.96.0.10"):
    port = {"name": "ssh", "port": 22, "protocol": "TCP", "targetPort": 22}
    if node_port:
        port["nodePort"] = node_port
    spec = {"selector": selector, "ports": [port], "type": svc_type, "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip]}
    if svc_type == "LoadBalancer":
        spec["healthCheckNodePort"] = 32000
        spec["externalTrafficPolicy"] = "Local"
    return served({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec,
                   "status": {"loadBalancer": {}}}, ns)


def networkpolicy(name, pod_selector, ns="src", namespace_selector=False):
    peer = {"namespaceSelector": {"matchLabels": {"team": "a"}}} if namespace_selector else \
        {"podSelector": {}}
    return served({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
                   "spec": {"podSelector": pod_selector, "ingress": [{"from": [peer]}],
                            "policyTypes": ["Ingress"]}}, ns)


def nad(name, ns="src", config=None):
    cfg = config if config is not None else (
        '{"cniVersion":"0.3.1","name":"l2net","type":"ovn-k8s-cni-overlay","topology":"layer2",'
        f'"netAttachDefName":"{ns}/{name}"}}')
    return served({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                   "metadata": {"name": name}, "spec": {"config": cfg}}, ns)


def storageclass(name, provisioner="csi.example.com", default=False, expansion=True):
    md = {"name": name}
    if default:
        md["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return served({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": md,
                   "provisioner": provisioner, "allowVolumeExpansion": expansion})


def csidriver(name="csi.example.com"):
    return served({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": name}, "spec": {}})


def storageprofile(name, strategy="csi-clone"):
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": {"name": name},
                   "spec": {}, "status": {"cloneStrategy": strategy, "storageClass": name}})


def snapshotclass(driver="csi.example.com"):
    return served({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                   "metadata": {"name": f"snap-{driver}"}, "driver": driver, "deletionPolicy": "Delete"})


def quota(name, hard, used=None, ns="dst"):
    return served({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": {"hard": hard},
                   "status": {"hard": hard, "used": used or {k: "0" for k in hard}}}, ns)


def cdi(version="v1.66.0", override=None):
    spec = {"cloneStrategyOverride": override} if override else {}
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDI", "metadata": {"name": "cdi"},
                   "spec": spec, "status": {"observedVersion": version}})


def kubevirt(version="v1.6.0"):
    return served({"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt"},
                   "spec": {}, "status": {"observedKubeVirtVersion": version}})


def storage_basics():
    """A cluster with one CSI class `standard` (default) that clones efficiently, plus CDI and KubeVirt."""
    return [storageclass("standard", default=True), csidriver(), storageprofile("standard"), snapshotclass(),
            cdi(), kubevirt()]


# ------------------------------------------------------------------ schema validation of target manifests

SCHEMAS = shared.SCHEMAS
_validators = {}


def _crd_validator(api_version, kind):
    import json

    import jsonschema

    group, version = api_version.split("/")
    path = SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.exists():
        return None
    if path not in _validators:
        _validators[path] = jsonschema.Draft7Validator(json.loads(path.read_text()))
    return _validators[path]


def schema_errors(obj):
    """Why `obj` would be rejected: the shared CRD schemas for KubeVirt/CDI/NAD kinds, kubernetes-validate (strict,
    1.32) for core kinds, plus the root checks the CRD schemas leave open (README of shared/schemas)."""
    import re

    problems = []
    md = obj.get("metadata") or {}
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", md.get("name", "")) or len(md.get("name", "")) > 253:
        problems.append(f"bad name {md.get('name')!r}")
    if set(obj) - {"apiVersion", "kind", "metadata", "spec", "data", "stringData", "binaryData", "type",
                   "revision", "secrets", "imagePullSecrets", "automountServiceAccountToken", "immutable"}:
        problems.append(f"unexpected root keys {sorted(set(obj) - {'apiVersion', 'kind', 'metadata', 'spec'})}")
    if "status" in obj:
        problems.append("status present")
    for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "ownerReferences", "finalizers",
                "generation"):
        if key in md:
            problems.append(f"metadata.{key} present")
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    if "/" in api_version and api_version.split("/")[0].endswith(("kubevirt.io", "cncf.io")):
        validator = _crd_validator(api_version, kind)
        if validator is None:
            # shared/schemas has no VirtualMachinePreference schema; its root and metadata are still checked.
            return problems if kind == "VirtualMachinePreference" else problems + [f"no schema for {kind}"]
        problems += [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
        if kind == "NetworkAttachmentDefinition":
            import json
            json.loads(obj["spec"]["config"])
        return problems
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, "1.32", strict=True)
    except kubernetes_validate.ValidationError as err:
        problems.append(str(err).split("\n")[0])
    return problems


def render_template(template, **params):
    """The objects of an OpenShift Template with ${X} / ${{X}} replaced: given params, else the parameter's value,
    else a fixed stand-in for `generate: expression` parameters."""
    import json
    import re

    values = {}
    for p in template.get("parameters") or ():
        values[p["name"]] = params.get(p["name"], p.get("value", f"{p['name'].lower().replace('_', '-')}-x1"))
    values.update(params)
    text = json.dumps(template.get("objects") or [])
    text = re.sub(r'"\$\{\{(\w+)\}\}"', lambda m: json.dumps(_typed(values[m.group(1)])), text)
    text = re.sub(r"\$\{(\w+)\}", lambda m: str(values[m.group(1)]), text)
    return json.loads(text)


def _typed(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def fixture_vm(rel, index=0, name=None, namespace="src", **params):
    """The `index`-th VirtualMachine of a fixture (Templates rendered), as the server returns it from the v1 API."""
    objs = []
    for obj in load_fixture(rel):
        if obj.get("kind") == "Template":
            objs += render_template(obj, **params)
        else:
            objs.append(obj)
    vms = [o for o in objs if o.get("kind") == "VirtualMachine"]
    vm = _prune_nulls(copy.deepcopy(vms[index]))
    vm.setdefault("metadata", {})
    if name or not vm["metadata"].get("name"):
        vm["metadata"]["name"] = name or "partial-vm"
    vm["metadata"].pop("namespace", None)
    if vm.get("apiVersion") == "kubevirt.io/v1alpha3":
        vm["apiVersion"] = "kubevirt.io/v1"     # the server serves v1alpha3 and v1 with one schema
    return served(vm, namespace)


def _prune_nulls(node):
    """The API server drops null values of non-nullable CRD fields before storing (structural schema pruning)."""
    if isinstance(node, dict):
        return {k: _prune_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_prune_nulls(v) for v in node]
    return node
