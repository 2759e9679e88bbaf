"""Plain-dict manifests for seeding kubesim (``sim.apply(builders.vm("vm1", "ns1"))``), shaped like the upstream
KubeVirt/CDI examples in shared/fixtures/upstream/kubevirt (dataVolumeTemplates with the ``storage`` API,
``kubevirt.io/domain`` template labels, masquerade pod networking, cloud-init NoCloud from a Secret).

Every seeding builder returns a list of objects in creation order, so results can be concatenated; the
``served_*`` builders at the end return single objects as the API server returns them, for tests without a server.
"""

import base64
import copy
import itertools

import yaml

from tests import shared

DEFAULT_IMAGE = "docker://quay.io/containerdisks/fedora:41"
SSH_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKubesimKubesimKubesimKubesimKubesimKubesim0 "
           "kubesim@example.com")


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def namespace(name, labels=None):
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    return [obj]


def storage_class(name, provisioner="kubevirt.io.hostpath-provisioner", default=False, binding="Immediate",
                  expand=True, reclaim="Delete", clone_strategy=None, parameters=None):
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
           "provisioner": provisioner, "reclaimPolicy": reclaim, "volumeBindingMode": binding,
           "allowVolumeExpansion": bool(expand)}
    ann = {}
    if default:
        ann["storageclass.kubernetes.io/is-default-class"] = "true"
    if clone_strategy:
        ann["cdi.kubevirt.io/clone-strategy"] = clone_strategy
    if ann:
        obj["metadata"]["annotations"] = ann
    if parameters:
        obj["parameters"] = dict(parameters)
    return [obj]


def pvc(name, namespace, size="10Gi", storage_class=None, access_modes=("ReadWriteOnce",), volume_mode="Filesystem",
        labels=None, annotations=None, volume_name=None):
    spec = {"accessModes": list(access_modes), "resources": {"requests": {"storage": size}},
            "volumeMode": volume_mode}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume_name:
        spec["volumeName"] = volume_name
    obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
           "spec": spec}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    return [obj]


def dv_spec(size, source=None, storage_class=None, access_modes=None, volume_mode=None):
    """A DataVolume spec using the ``storage`` API (CDI fills access and volume modes from the StorageProfile)."""
    storage = {"resources": {"requests": {"storage": size}}} if size else {}
    if storage_class is not None:
        storage["storageClassName"] = storage_class
    if access_modes:
        storage["accessModes"] = list(access_modes)
    if volume_mode:
        storage["volumeMode"] = volume_mode
    return {"source": source or {"blank": {}}, "storage": storage}


def data_volume(name, namespace, size="10Gi", source=None, storage_class=None, annotations=None, labels=None,
                **kw):
    obj = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
           "metadata": {"name": name, "namespace": namespace},
           "spec": dv_spec(size, source, storage_class, kw.get("access_modes"), kw.get("volume_mode"))}
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    return [obj]


def clone_data_volume(name, namespace, source_namespace, source_name, size=None, storage_class=None,
                      annotations=None, **kw):
    """A DataVolume cloning ``source_namespace/source_name`` (size omitted: CDI takes the source's).

    Without ``volume_mode``/``access_modes`` CDI takes the first claim property set of the target's
    StorageProfile, which is not necessarily the source's volume mode (and then falls back to host copy)."""
    return data_volume(name, namespace, size, {"pvc": {"namespace": source_namespace, "name": source_name}},
                       storage_class, annotations, **kw)


def secret(name, namespace, string_data, type_="Opaque", labels=None):
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
           "type": type_, "data": {k: _b64(v) for k, v in string_data.items()}}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    return [obj]


def configmap(name, namespace, data):
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
             "data": dict(data)}]


def network_attachment_definition(name, namespace, bridge="br1", vlan=None):
    config = {"cniVersion": "0.3.1", "name": name, "type": "bridge", "bridge": bridge, "ipam": {}}
    if vlan is not None:
        config["vlan"] = vlan
    import json
    return [{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
             "metadata": {"name": name, "namespace": namespace,
                          "annotations": {"k8s.v1.cni.cncf.io/resourceName": f"bridge.network.kubevirt.io/{bridge}"}},
             "spec": {"config": json.dumps(config)}}]


def service(name, namespace, selector, port=22, target_port=22, type_="ClusterIP"):
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
             "spec": {"type": type_, "selector": dict(selector),
                      "ports": [{"name": "ssh" if port == 22 else f"port-{port}", "port": port,
                                 "targetPort": target_port, "protocol": "TCP"}]}}]


def user_data(hostname, ssh_key=SSH_KEY):
    return (f"#cloud-config\nhostname: {hostname}\nuser: fedora\npassword: changeme-{hostname}\n"
            f"chpasswd: {{ expire: False }}\nssh_authorized_keys:\n  - {ssh_key}\n")


def vm(name, namespace, disks=(("rootdisk", "10Gi"),), storage_class=None, running=False, run_strategy=None,
       legacy_running=False, cloud_init_secret=None, service=False, nad=None, instancetype=None, preference=None,
       labels=None, tpm=False, efi_persistent=False, ssh_key_secret=None, configmap=None, disk_mode="template",
       image=DEFAULT_IMAGE, mac=None, firmware_uuid=None, service_account=None, memory="2Gi",
       shared_secret=None):
    """A VirtualMachine plus what it uses, in creation order.

    ``disks``: (name, size) pairs; claim names are ``<vm>-<disk>``.  ``disk_mode``: ``"template"``
    (dataVolumeTemplates owned by the VM), ``"dv"`` (standalone DataVolumes), ``"pvc"`` (plain PVCs).
    ``cloud_init_secret`` / ``ssh_key_secret`` / ``configmap``: names of objects created alongside;
    ``shared_secret``: name of an existing Secret mounted as an extra disk (a dependency shared by VMs).
    ``nad``: name of a bridge NetworkAttachmentDefinition created in the namespace and attached as ``net1``.
    ``instancetype``/``preference``: a cluster-wide name or a ``(kind, name)`` pair.
    """
    objs = []
    app_labels = {"app": name}
    vm_labels = dict(app_labels, **(labels or {}))
    tmpl_labels = {"kubevirt.io/domain": name, "app": name}
    disk_list, volumes, templates = [], [], []
    for idx, (disk, size) in enumerate(disks):
        claim = f"{name}-{disk}"
        source = {"registry": {"url": image}} if (idx == 0 and image) else {"blank": {}}
        disk_entry = {"name": disk, "disk": {"bus": "virtio"}}
        if idx == 0:
            disk_entry["bootOrder"] = 1
        disk_list.append(disk_entry)
        if disk_mode == "template":
            templates.append({"metadata": {"name": claim}, "spec": dv_spec(size, source, storage_class)})
            volumes.append({"name": disk, "dataVolume": {"name": claim}})
        elif disk_mode == "dv":
            objs += data_volume(claim, namespace, size, source, storage_class, labels=app_labels)
            volumes.append({"name": disk, "dataVolume": {"name": claim}})
        elif disk_mode == "pvc":
            objs += pvc(claim, namespace, size, storage_class, labels=app_labels)
            volumes.append({"name": disk, "persistentVolumeClaim": {"claimName": claim}})
        else:
            raise ValueError(f"unknown disk_mode {disk_mode!r}")
    interfaces = [{"name": "default", "masquerade": {}}]
    if mac:
        interfaces[0]["macAddress"] = mac
    networks = [{"name": "default", "pod": {}}]
    if nad:
        objs += network_attachment_definition(nad, namespace)
        interfaces.append({"name": "net1", "bridge": {}})
        networks.append({"name": "net1", "multus": {"networkName": nad}})
    if cloud_init_secret:
        objs += secret(cloud_init_secret, namespace, {"userdata": user_data(name)}, labels=app_labels)
        disk_list.append({"name": "cloudinitdisk", "disk": {"bus": "virtio"}})
        volumes.append({"name": "cloudinitdisk", "cloudInitNoCloud": {"secretRef": {"name": cloud_init_secret}}})
    if configmap:
        objs += globals()["configmap"](configmap, namespace, {"app.properties": f"name={name}\n"})
        disk_list.append({"name": "config", "disk": {"bus": "virtio"}, "serial": "CONFIG"})
        volumes.append({"name": "config", "configMap": {"name": configmap}})
    if shared_secret:
        disk_list.append({"name": "shared", "disk": {"bus": "virtio"}, "serial": "SHARED"})
        volumes.append({"name": "shared", "secret": {"secretName": shared_secret}})
    domain = {"devices": {"disks": disk_list, "interfaces": interfaces}}
    if tpm:
        domain["devices"]["tpm"] = {"persistent": True}
    if efi_persistent:
        domain["firmware"] = {"bootloader": {"efi": {"persistent": True, "secureBoot": False}}}
    if firmware_uuid:
        domain.setdefault("firmware", {})["uuid"] = firmware_uuid
    if not instancetype:
        domain["memory"] = {"guest": memory}
        domain["resources"] = {}
    tspec = {"domain": domain, "networks": networks, "terminationGracePeriodSeconds": 180, "volumes": volumes}
    if service_account:
        tspec["serviceAccountName"] = service_account
    if ssh_key_secret:
        objs += secret(ssh_key_secret, namespace, {"key": SSH_KEY}, labels=app_labels)
        tspec["accessCredentials"] = [{"sshPublicKey": {"source": {"secret": {"secretName": ssh_key_secret}},
                                                        "propagationMethod": {"noCloud": {}}}}]
    spec = {"template": {"metadata": {"labels": tmpl_labels}, "spec": tspec}}
    if legacy_running:
        spec["running"] = bool(running)
    else:
        spec["runStrategy"] = run_strategy or ("Always" if running else "Halted")
    if templates:
        spec["dataVolumeTemplates"] = templates
    for key, value, default_kind in (("instancetype", instancetype, "VirtualMachineClusterInstancetype"),
                                     ("preference", preference, "VirtualMachineClusterPreference")):
        if value:
            kind, ref = value if isinstance(value, tuple) else (default_kind, value)
            spec[key] = {"kind": kind, "name": ref}
    objs.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                 "metadata": {"name": name, "namespace": namespace, "labels": vm_labels}, "spec": spec})
    if service:
        objs += globals()["service"](f"{name}-ssh", namespace, {"kubevirt.io/domain": name})
    return objs


def sample_namespace(ns, vms=3, disks_per_vm=2, with_service=True, running_every=0, storage_class=None,
                     disk_mode="template", shared_secret="common-cloud-config", nad=None, labels=None,
                     image=DEFAULT_IMAGE, disk_size="10Gi"):
    """A namespace with ``vms`` VMs named ``vm-0001``...; every ``running_every``-th VM runs (0 = none).

    All VMs share one Secret (``shared_secret``) and optionally one NAD; each has its own cloud-init Secret,
    ``disks_per_vm`` disks and, with ``with_service``, a Service.  Building 2,000 VMs takes well under a second.
    """
    objs = namespace(ns, labels)
    if shared_secret:
        objs += secret(shared_secret, ns, {"ca.crt": "-----BEGIN CERTIFICATE-----\nkubesim\n-----END CERTIFICATE-----\n"})
    if nad:
        objs += network_attachment_definition(nad, ns)
    disks = tuple(("rootdisk" if i == 0 else f"data{i}", disk_size) for i in range(disks_per_vm))
    for i in range(1, vms + 1):
        name = f"vm-{i:04d}"
        running = bool(running_every) and i % running_every == 0
        objs += vm(name, ns, disks=disks, storage_class=storage_class, running=running,
                   cloud_init_secret=f"{name}-cloud-init", service=with_service, disk_mode=disk_mode,
                   shared_secret=shared_secret, image=image)
        if nad:
            objs[-2 if with_service else -1]["spec"]["template"]["spec"]["networks"].append(
                {"name": "net1", "multus": {"networkName": nad}})
            objs[-2 if with_service else -1]["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"].append(
                {"name": "net1", "bridge": {}})
    return objs


# ------------------------------------------------------------------ objects as the API server returns them
# For unit tests that need no server: ``served_*`` builders return one object each with the metadata the server
# assigns (uid, resourceVersion, creationTimestamp, generation) and a status; ``load_fixture``/``served_fixture_vm``
# read the upstream KubeVirt fixtures in shared/fixtures/upstream/kubevirt; ``schema_errors`` says why a target
# manifest would be rejected.

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


def served_namespace(name, labels=None):
    return served({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}})


def served_vm(name, ns="src", disks=(), running=False, labels=None, template_labels=None, volumes=(), disks_spec=None,
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


def served_pvc(name, ns="src", size="10Gi", sc="standard", mode=None, phase="Bound", labels=None, owner=None,
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


def served_dv(name, ns="src", phase="Succeeded", owner=None, size="10Gi", sc="standard"):
    md = {"name": name}
    if owner:
        md["ownerReferences"] = [owner]
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": md,
                   "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": size}},
                                                                 "storageClassName": sc}},
                   "status": {"phase": phase}}, ns)


def served_pv(name, policy="Delete", csi_secret_ns=None):
    spec = {"persistentVolumeReclaimPolicy": policy, "capacity": {"storage": "10Gi"}}
    if csi_secret_ns:
        spec["csi"] = {"driver": "csi.example.com", "volumeHandle": name,
                       "nodeStageSecretRef": {"name": "ceph-secret", "namespace": csi_secret_ns}}
    return served({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec})


def served_secret(name, ns="src"):
    # As a metadata-only list returns it: no data, no type.
    return served({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}, ns)


def served_configmap(name, ns="src"):
    return served({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}, ns)


def served_serviceaccount(name, ns="src"):
    return served({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name},
                   "secrets": [{"name": f"{name}-token-abcde"}]}, ns)


def served_service(name, selector, ns="src", svc_type="ClusterIP", node_port=None, cluster_ip="10.96.0.10"):
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


def served_networkpolicy(name, pod_selector, ns="src", namespace_selector=False):
    peer = {"namespaceSelector": {"matchLabels": {"team": "a"}}} if namespace_selector else \
        {"podSelector": {}}
    return served({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
                   "spec": {"podSelector": pod_selector, "ingress": [{"from": [peer]}],
                            "policyTypes": ["Ingress"]}}, ns)


def served_nad(name, ns="src", config=None):
    cfg = config if config is not None else (
        '{"cniVersion":"0.3.1","name":"l2net","type":"ovn-k8s-cni-overlay","topology":"layer2",'
        f'"netAttachDefName":"{ns}/{name}"}}')
    return served({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                   "metadata": {"name": name}, "spec": {"config": cfg}}, ns)


def served_storageclass(name, provisioner="csi.example.com", default=False, expansion=True):
    md = {"name": name}
    if default:
        md["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return served({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": md,
                   "provisioner": provisioner, "allowVolumeExpansion": expansion})


def served_csidriver(name="csi.example.com"):
    return served({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": name}, "spec": {}})


def served_storageprofile(name, strategy="csi-clone"):
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": {"name": name},
                   "spec": {}, "status": {"cloneStrategy": strategy, "storageClass": name}})


def served_snapshotclass(driver="csi.example.com"):
    return served({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                   "metadata": {"name": f"snap-{driver}"}, "driver": driver, "deletionPolicy": "Delete"})


def served_quota(name, hard, used=None, ns="dst"):
    return served({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": {"hard": hard},
                   "status": {"hard": hard, "used": used or {k: "0" for k in hard}}}, ns)


def served_cdi(version="v1.66.0", override=None):
    spec = {"cloneStrategyOverride": override} if override else {}
    return served({"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDI", "metadata": {"name": "cdi"},
                   "spec": spec, "status": {"observedVersion": version}})


def served_kubevirt(version="v1.6.0"):
    return served({"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt"},
                   "spec": {}, "status": {"observedKubeVirtVersion": version}})


def served_storage_basics():
    """A cluster with one CSI class `standard` (default) that clones efficiently, plus CDI and KubeVirt."""
    return [served_storageclass("standard", default=True), served_csidriver(), served_storageprofile("standard"), served_snapshotclass(),
            served_cdi(), served_kubevirt()]


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


def served_fixture_vm(rel, index=0, name=None, namespace="src", **params):
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
