"""Plain-dict manifests for seeding kubesim (``sim.apply(builders.vm("vm1", "ns1"))``), shaped like the upstream
KubeVirt/CDI examples in shared/fixtures/upstream/kubevirt (dataVolumeTemplates with the ``storage`` API,
``kubevirt.io/domain`` template labels, masquerade pod networking, cloud-init NoCloud from a Secret).

Every builder returns a list of objects in creation order, so results can be concatenated.
"""

import base64

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
