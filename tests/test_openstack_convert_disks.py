"""Disks, DataVolumes, interfaces and network data, user data and key pairs."""

import base64

import pytest
import yaml

from kubectl_vmmove.errors import UsageError, UserError
from kubectl_vmmove.openstack.convert import Options, convert
from kubectl_vmmove.openstack.mapping.disks import device_key
from kubectl_vmmove.openstack.mapping.networks import parse_network_map
from kubectl_vmmove.openstack.read.inputs import RawInput, read_data
from kubectl_vmmove.openstack.read.normalise import normalise
from kubectl_vmmove.openstack.report import iter_entries

SID = "00000000-0000-0000-0000-000000000001"
IMG = "11111111-1111-1111-1111-111111111111"


def server(sid=SID, name="vm", image=IMG, flavor=None, vols=(), addresses=None, **extra):
    f = {"original_name": "f", "vcpus": 1, "ram": 1024, "disk": 20, "ephemeral": 0, "swap": 0, "extra_specs": {}}
    f.update(flavor or {})
    return {"id": sid, "name": name, "status": "ACTIVE", "tenant_id": "p1", "image": {"id": image} if image else "",
            "flavor": f, "addresses": addresses or {}, "os-extended-volumes:volumes_attached": [{"id": v} for v in vols],
            **extra}


def volume(vid, name, size, attachments=(), vtype="ssd", bootable=False, multi=False, **extra):
    return {"id": vid, "name": name, "size": size, "volume_type": vtype, "bootable": "true" if bootable else "false",
            "multiattach": multi, "os-vol-tenant-attr:tenant_id": "p1", "status": "in-use" if attachments else "available",
            "attachments": [{"server_id": s, "device": d} for s, d in attachments], **extra}


def run(servers, options=None, **resources):
    resources.setdefault("images", [{"id": IMG, "name": "ubuntu", "disk_format": "qcow2", "size": 2 * 1024 ** 3}])
    doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport", "resources": {
        "servers": servers, "projects": [{"id": "p1", "name": "shop", "domain_id": "d"}],
        "domains": [{"id": "d", "name": "dom"}], **resources}}
    out = RawInput()
    read_data(doc, "t.yaml", out)
    return convert(normalise(out), options or Options())


def vm_of(result, name="vm"):
    return next(o for o in result.objects if o["kind"] == "VirtualMachine" and o["metadata"]["name"] == name)


def disks_of(vm):
    return vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"]


def dv_templates(vm):
    return {t["metadata"]["name"]: t["spec"] for t in vm["spec"].get("dataVolumeTemplates", [])}


def test_device_order_is_by_device_name_not_list_order():
    devices = ["/dev/vdc", "/dev/vdaa", "/dev/vdb", None, "/dev/vdz"]
    assert sorted(devices, key=device_key) == ["/dev/vdb", "/dev/vdc", "/dev/vdz", "/dev/vdaa", None]


def test_image_root_and_volumes_in_device_order_with_storage_classes():
    vols = [volume("v-c", "logs", 5, [(SID, "/dev/vdc")], vtype="hdd"),
            volume("v-b", "data", 50, [(SID, "/dev/vdb")], vtype="ssd")]
    r = run([server(vols=["v-c", "v-b"])], Options(storage_class_map={"ssd": "fast", "glance": "images"}), volumes=vols)
    vm = vm_of(r)
    assert [d["name"] for d in disks_of(vm)] == ["root", "data-1", "data-2"]
    assert disks_of(vm)[0]["bootOrder"] == 1
    t = dv_templates(vm)
    assert t["vm-root"]["storage"] == {"resources": {"requests": {"storage": "20Gi"}}, "storageClassName": "images"}
    assert t["vm-data-1"]["storage"] == {"resources": {"requests": {"storage": "50Gi"}}, "storageClassName": "fast"}
    assert "storageClassName" not in t["vm-data-2"]["storage"], "hdd has no mapping: default class"
    assert any("'hdd' has no --storage-class-map" in w for w in r.warnings)


def test_default_disk_source_is_a_pre_staged_claim_and_templates_render():
    r = run([server(vols=["v-b"])], volumes=[volume("v-b", "data", 1, [(SID, "/dev/vdb")])])
    t = dv_templates(vm_of(r))
    assert t["vm-root"]["source"] == {"pvc": {"name": f"image-{IMG}", "namespace": "dom-shop"}}
    assert t["vm-data-1"]["source"] == {"pvc": {"name": "volume-v-b", "namespace": "dom-shop"}}
    opts = Options(disk_source="http", disk_url_template="https://img.example/{source_kind}s/{source_name}.qcow2",
                   disk_secret="creds")
    t = dv_templates(vm_of(run([server(vols=["v-b"])], opts, volumes=[volume("v-b", "data", 1, [(SID, "/dev/vdb")])])))
    assert t["vm-root"]["source"] == {"http": {"url": "https://img.example/images/ubuntu.qcow2", "secretRef": "creds"}}
    assert t["vm-data-1"]["source"]["http"]["url"] == "https://img.example/volumes/data.qcow2"
    t = dv_templates(vm_of(run([server()], Options(disk_source="registry", registry_template="reg.example/{image_id}"))))
    assert t["vm-root"]["source"] == {"registry": {"url": f"docker://reg.example/{IMG}"}}


def test_unknown_template_field_is_a_usage_error():
    with pytest.raises(UsageError) as err:
        run([server()], Options(disk_source="http", disk_url_template="https://x/{flavor}"))
    assert "{flavor}" in str(err.value)


def test_root_size_from_the_image_when_the_flavor_has_none():
    images = [{"id": IMG, "name": "big", "virtual_size": 41 * 1024 ** 3 + 1, "min_disk": 10}]
    t = dv_templates(vm_of(run([server(flavor={"disk": 0})], images=images)))
    assert t["vm-root"]["storage"]["resources"]["requests"]["storage"] == "42Gi"


def test_boot_from_volume_root_is_the_boot_volume_and_its_image_metadata_gives_the_bus():
    vols = [volume("v-data", "data", 10, [(SID, "/dev/vdb")]),
            volume("v-root", "root", 30, [(SID, "/dev/vda")], bootable=True,
                   volume_image_metadata={"hw_disk_bus": "scsi", "image_name": "rhel"})]
    vm = vm_of(run([server(image=None, vols=["v-data", "v-root"], flavor={"disk": 0})], volumes=vols))
    disks = disks_of(vm)
    assert [(d["name"], d.get("bootOrder")) for d in disks] == [("root", 1), ("data-1", None)]
    assert {d["disk"]["bus"] for d in disks} == {"scsi"}
    assert dv_templates(vm)["vm-root"]["storage"]["resources"]["requests"]["storage"] == "30Gi"


def test_ephemeral_is_a_blank_data_volume_and_swap_a_blank_disk_both_reported():
    r = run([server(flavor={"ephemeral": 5, "swap": 512})])
    vm = vm_of(r)
    assert dv_templates(vm)["vm-ephemeral"]["source"] == {"blank": {}}
    assert {"name": "swap", "emptyDisk": {"capacity": "512Mi"}} in vm["spec"]["template"]["spec"]["volumes"]
    statuses = {f: s for k, _, f, s, _, _ in iter_entries(r.report) if k == "Server"}
    assert statuses["flavor.ephemeral"] == "approximated" and statuses["flavor.swap"] == "approximated"


def test_multiattach_volume_is_one_shared_data_volume():
    s2 = "00000000-0000-0000-0000-000000000002"
    vols = [volume("v-shared", "shared data", 100, [(SID, "/dev/vdb"), (s2, "/dev/vdb")], multi=True)]
    r = run([server(vols=["v-shared"]), server(sid=s2, name="vm2", vols=["v-shared"])], volumes=vols)
    dvs = [o for o in r.objects if o["kind"] == "DataVolume"]
    assert [d["metadata"]["name"] for d in dvs] == ["shared-data"]
    for name in ("vm", "vm2"):
        vm = vm_of(r, name)
        assert {"name": "data-1", "dataVolume": {"name": "shared-data"}} in vm["spec"]["template"]["spec"]["volumes"]
        assert next(d for d in disks_of(vm) if d["name"] == "data-1")["shareable"] is True
        assert "vm-data-1" not in dv_templates(vm)


def test_unattached_volume_is_kept_as_a_standalone_data_volume():
    r = run([server()], volumes=[volume("v-free", "backup-2024", 7)])
    (dv,) = [o for o in r.objects if o["kind"] == "DataVolume"]
    assert dv["metadata"]["name"] == "backup-2024" and dv["metadata"]["namespace"] == "dom-shop"


NET = {"id": "n1", "name": "private"}
STOR = {"id": "n2", "name": "storage"}
SUBNETS = [{"id": "s1", "network_id": "n1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "dns_nameservers": ["10.0.0.2"]},
           {"id": "s2", "network_id": "n2", "cidr": "172.16.0.0/16", "gateway_ip": None}]


def two_nic_server(**extra):
    return server(addresses={
        "private": [{"addr": "10.0.0.5", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:0a", "OS-EXT-IPS:type": "fixed"},
                    {"addr": "203.0.113.9", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:0a", "OS-EXT-IPS:type": "floating"}],
        "storage": [{"addr": "172.16.3.4", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:0b", "OS-EXT-IPS:type": "fixed"}]},
        **extra)


def test_unmapped_network_is_an_error_naming_it_and_the_flag():
    with pytest.raises(UserError) as err:
        run([two_nic_server()], Options(network_map=parse_network_map(["private=pod"])), networks=[NET, STOR])
    msg = str(err.value)
    assert "network 'storage' (used by vm)" in msg and "--network-map" in msg and "private" not in msg.split("\n")[1]


def test_two_pod_interfaces_are_an_error():
    with pytest.raises(UserError) as err:
        run([two_nic_server()], Options(network_map=parse_network_map(["private=pod", "storage=pod"])),
            networks=[NET, STOR])
    assert "two interfaces mapped to the pod network" in str(err.value)


def test_bad_network_map_values_are_usage_errors():
    for bad in ("private", "private=multus:", "private=bridge", "private=multus:Bad_NS/x"):
        with pytest.raises(UsageError):
            parse_network_map([bad])


def test_interfaces_keep_macs_pod_masquerade_multus_bridge_and_ignore():
    opts = Options(network_map=parse_network_map(["private=pod", "n2=multus:infra/storage"]))
    vm = vm_of(run([two_nic_server()], opts, networks=[NET, STOR]))
    spec = vm["spec"]["template"]["spec"]
    assert spec["domain"]["devices"]["interfaces"] == [
        {"name": "private", "masquerade": {}, "macAddress": "fa:16:3e:00:00:0a"},
        {"name": "storage", "bridge": {}, "macAddress": "fa:16:3e:00:00:0b"}]
    assert spec["networks"] == [{"name": "private", "pod": {}},
                                {"name": "storage", "multus": {"networkName": "infra/storage"}}]
    opts = Options(network_map=parse_network_map(["private=pod", "storage=ignore"]))
    vm = vm_of(run([two_nic_server()], opts, networks=[NET, STOR]))
    assert [i["name"] for i in vm["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]] == ["private"]


def secret_data(result, name):
    sec = next(o for o in result.objects if o["kind"] == "Secret" and o["metadata"]["name"] == name)
    return {k: base64.b64decode(v).decode() for k, v in sec.get("data", {}).items()}, sec


def test_static_ips_as_netplan_for_nocloud_keeping_dhcp_on_the_pod_interface():
    opts = Options(network_map=parse_network_map(["private=pod", "storage=multus:infra/storage"]), static_ips=True)
    r = run([two_nic_server()], opts, networks=[NET, STOR], subnets=SUBNETS)
    data, _ = secret_data(r, "vm-cloudinit")
    assert yaml.safe_load(data["networkdata"]) == {"version": 2, "ethernets": {
        "pod": {"match": {"macaddress": "fa:16:3e:00:00:0a"}, "dhcp4": True},
        "storage": {"match": {"macaddress": "fa:16:3e:00:00:0b"}, "set-name": "storage",
                    "addresses": ["172.16.3.4/16"]}}}
    vol = next(v for v in vm_of(r)["spec"]["template"]["spec"]["volumes"] if v["name"] == "cloudinit")
    assert vol == {"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config\n",
                                                             "networkDataSecretRef": {"name": "vm-cloudinit"}}}


def test_static_ips_as_openstack_network_data_for_a_config_drive():
    opts = Options(network_map=parse_network_map(["private=multus:infra/private"]), static_ips=True)
    srv = server(config_drive="True", addresses={"private": [
        {"addr": "10.0.0.5", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:0a", "OS-EXT-IPS:type": "fixed"}]})
    import json
    data, _ = secret_data(run([srv], opts, networks=[NET], subnets=SUBNETS), "vm-cloudinit")
    nd = json.loads(data["networkdata"])
    assert nd["links"] == [{"id": "private", "type": "phy", "ethernet_mac_address": "fa:16:3e:00:00:0a"}]
    assert nd["networks"][0]["ip_address"] == "10.0.0.5" and nd["networks"][0]["netmask"] == "255.255.255.0"
    assert nd["networks"][0]["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"}]
    assert nd["services"] == [{"type": "dns", "address": "10.0.0.2"}]


def test_user_data_goes_into_a_secret_and_the_key_pair_into_access_credentials():
    ud = "#!/bin/sh\necho 'PASSWORD=hunter2-very-secret'\n"
    srv = server(key_name="ops", config_drive="", **{"OS-EXT-SRV-ATTR:user_data": base64.b64encode(ud.encode()).decode()})
    r = run([srv], keypairs=[{"name": "ops", "public_key": "ssh-ed25519 AAAAkey ops@x", "type": "ssh"}])
    data, sec = secret_data(r, "vm-cloudinit")
    assert data == {"userdata": ud} and sec["type"] == "Opaque"
    keydata, _ = secret_data(r, "keypair-ops")
    assert keydata == {"ssh-publickey": "ssh-ed25519 AAAAkey ops@x\n"}
    spec = vm_of(r)["spec"]["template"]["spec"]
    assert spec["accessCredentials"] == [{"sshPublicKey": {"propagationMethod": {"noCloud": {}},
                                                           "source": {"secret": {"secretName": "keypair-ops"}}}}]
    assert {"name": "cloudinit", "cloudInitNoCloud": {"secretRef": {"name": "vm-cloudinit"}}} in spec["volumes"]
    text = repr(r.report.document(1, len(r.objects))) + repr(r.warnings)
    assert "hunter2" not in text and base64.b64encode(ud.encode()).decode() not in text and "AAAAkey" not in text


def test_config_drive_key_propagation_and_omitted_secret_values():
    srv = server(key_name="ops", config_drive="True")
    r = run([srv], Options(omit_secret_values=True),
            keypairs=[{"name": "ops", "public_key": "ssh-rsa AAAA ops", "type": "ssh"}])
    spec = vm_of(r)["spec"]["template"]["spec"]
    assert spec["accessCredentials"][0]["sshPublicKey"]["propagationMethod"] == {"configDrive": {}}
    assert {"name": "cloudinit", "cloudInitConfigDrive": {"userData": "#cloud-config\n"}} in spec["volumes"]
    _, sec = secret_data(r, "keypair-ops")
    assert "data" not in sec and "ssh-publickey" in sec["metadata"]["annotations"]["vmmove.io/fill-in"]


def test_missing_key_pair_is_reported():
    r = run([server(key_name="gone")])
    assert [s for k, _, f, s, _, _ in iter_entries(r.report) if k == "Server" and f == "key_name"] == ["dropped"]


def test_server_groups_become_affinity_and_zones_only_with_the_flag():
    s2 = "00000000-0000-0000-0000-000000000002"
    groups = [{"id": "g1", "name": "web", "policy": "anti-affinity", "members": [SID, s2], "rules": {}}]
    r = run([server(**{"OS-EXT-AZ:availability_zone": "az1"}), server(sid=s2, name="vm2")], server_groups=groups)
    spec = vm_of(r)["spec"]["template"]
    value = spec["metadata"]["labels"]["vmmove.io/server-group"]
    assert spec["spec"]["affinity"] == {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"vmmove.io/server-group": value}}, "topologyKey": "kubernetes.io/hostname"}]}}
    assert "nodeSelector" not in spec["spec"]
    groups[0]["policy"] = "soft-affinity"
    r = run([server(**{"OS-EXT-AZ:availability_zone": "az1"})], Options(zones=True, zone_map={"az1": "eu-1a"}),
            server_groups=groups)
    spec = vm_of(r)["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"topology.kubernetes.io/zone": "eu-1a"}
    assert "preferredDuringSchedulingIgnoredDuringExecution" in spec["affinity"]["podAffinity"]
