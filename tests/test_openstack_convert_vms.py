"""Server + flavor + image -> VirtualMachine: compute, firmware, devices, names, labels, run strategy."""

import pytest

from kubectl_vmmove.openstack.convert import Options, convert
from kubectl_vmmove.openstack.read.inputs import RawInput, read_data
from kubectl_vmmove.openstack.read.normalise import normalise
from kubectl_vmmove.openstack.report import iter_entries

IMAGE_ID = "11111111-2222-3333-4444-555555555555"


def server(name="vm-a", sid="aaaaaaaa-0000-0000-0000-000000000001", status="ACTIVE", flavor=None, image=IMAGE_ID, **extra):
    flavor = flavor or {}
    return {"id": sid, "name": name, "status": status, "tenant_id": "p1", "image": {"id": image} if image else "",
            "flavor": {"original_name": flavor.get("name", "f1"), "vcpus": flavor.get("vcpus", 2),
                       "ram": flavor.get("ram", 2048), "disk": flavor.get("disk", 10), "ephemeral": flavor.get("ephemeral", 0),
                       "swap": flavor.get("swap", ""), "extra_specs": flavor.get("extra_specs", {})},
            "addresses": {}, **extra}


def run(servers, images=None, options=None, **resources):
    doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "OpenStackExport",
           "resources": {"servers": servers, "images": images if images is not None else [{"id": IMAGE_ID, "name": "img"}],
                         "projects": [{"id": "p1", "name": "proj", "domain_id": "d1"}],
                         "domains": [{"id": "d1", "name": "dom"}], **resources}}
    out = RawInput()
    read_data(doc, "test.yaml", out)
    return convert(normalise(out), options or Options())


def vms(result):
    return {o["metadata"]["name"]: o for o in result.objects if o["kind"] == "VirtualMachine"}


def the_vm(result):
    (vm,) = vms(result).values()
    return vm


def domain(vm):
    return vm["spec"]["template"]["spec"]["domain"]


def entries(result, field_prefix):
    return [(f, s, r) for _, _, f, s, _, r in iter_entries(result.report) if f.startswith(field_prefix)]


def test_flavor_sizes_the_vm_and_the_server_id_becomes_the_firmware_uuid():
    vm = the_vm(run([server(flavor={"vcpus": 4, "ram": 3072})]))
    assert domain(vm)["cpu"] == {"sockets": 4, "cores": 1, "threads": 1}
    assert domain(vm)["memory"] == {"guest": "3072Mi"}
    assert domain(vm)["firmware"]["uuid"] == "aaaaaaaa-0000-0000-0000-000000000001"
    assert vm["metadata"]["namespace"] == "dom-proj"


def test_image_topology_wins_over_flavor_extra_specs():
    images = [{"id": IMAGE_ID, "name": "img", "hw_cpu_sockets": "2", "hw_cpu_cores": "4"}]
    r = run([server(flavor={"vcpus": 8, "extra_specs": {"hw:cpu_sockets": "8"}})], images)
    assert domain(the_vm(r))["cpu"] == {"sockets": 2, "cores": 4, "threads": 1}
    assert ("flavor.extra_specs.hw:cpu_sockets", "approximated") in [(f, s) for f, s, _ in entries(r, "flavor.extra")]


def test_topology_that_does_not_multiply_to_the_vcpus_falls_back_and_is_reported():
    images = [{"id": IMAGE_ID, "name": "img", "hw_cpu_sockets": "3"}]
    r = run([server(flavor={"vcpus": 4})], images)
    assert domain(the_vm(r))["cpu"] == {"sockets": 4, "cores": 1, "threads": 1}
    assert any(s == "approximated" for _, s, _ in entries(r, "image.properties.hw_cpu_sockets"))


def test_dedicated_cpus_isolated_emulator_thread_and_hugepages():
    specs = {"hw:cpu_policy": "dedicated", "hw:emulator_threads_policy": "isolate", "hw:mem_page_size": "1GB"}
    d = domain(the_vm(run([server(flavor={"extra_specs": specs})])))
    assert d["cpu"]["dedicatedCpuPlacement"] is True and d["cpu"]["isolateEmulatorThread"] is True
    assert d["memory"]["hugepages"] == {"pageSize": "1Gi"}


def test_isolated_emulator_thread_without_dedicated_cpus_is_dropped():
    r = run([server(flavor={"extra_specs": {"hw:emulator_threads_policy": "isolate"}})])
    assert "isolateEmulatorThread" not in domain(the_vm(r)).get("cpu", {})
    assert entries(r, "flavor.extra_specs.hw:emulator")[0][1] == "dropped"


def test_uefi_secure_boot_turns_on_smm_and_q35_machine_type_is_kept():
    images = [{"id": IMAGE_ID, "name": "img", "hw_firmware_type": "uefi", "os_secure_boot": "required",
               "hw_machine_type": "pc-q35-rhel9.2.0"}]
    d = domain(the_vm(run([server()], images)))
    assert d["firmware"]["bootloader"] == {"efi": {"secureBoot": True}}
    assert d["features"]["smm"] == {"enabled": True}
    assert d["machine"] == {"type": "pc-q35-rhel9.2.0"}


def test_i440fx_machine_type_is_approximated_to_the_default():
    images = [{"id": IMAGE_ID, "name": "img", "hw_machine_type": "pc-i440fx-2.11"}]
    r = run([server()], images)
    assert "machine" not in domain(the_vm(r))
    assert entries(r, "image.properties.hw_machine_type")[0][1] == "approximated"


@pytest.mark.parametrize("bus,expected,status", [("scsi", "scsi", "mapped"), ("ide", "sata", "approximated"),
                                                 ("xen", "virtio", "approximated"), ("sata", "sata", "mapped")])
def test_disk_bus(bus, expected, status):
    images = [{"id": IMAGE_ID, "name": "img", "hw_disk_bus": bus}]
    r = run([server()], images)
    disks = domain(the_vm(r))["devices"]["disks"]
    assert {d["disk"]["bus"] for d in disks if d["name"] == "root"} == {expected}
    assert entries(r, "image.properties.hw_disk_bus")[0][1] == status


def test_devices_from_image_properties():
    images = [{"id": IMAGE_ID, "name": "img", "hw_vif_model": "e1000", "hw_video_model": "none",
               "hw_pointer_model": "usbtablet", "hw_rng_model": "virtio", "hw_vif_multiqueue_enabled": "true",
               "hw_qemu_guest_agent": "yes", "hw_watchdog_action": "reset"}]
    r = run([server(addresses={"net": [{"addr": "10.0.0.2", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}]})],
            images, Options(network_map={"net": ("pod", None)}))
    dev = domain(the_vm(r))["devices"]
    assert dev["interfaces"][0]["model"] == "e1000"
    assert dev["autoattachGraphicsDevice"] is False and dev["rng"] == {} and dev["networkInterfaceMultiqueue"] is True
    assert dev["inputs"] == [{"bus": "usb", "name": "tablet", "type": "tablet"}]
    assert dev["watchdog"] == {"name": "watchdog", "i6300esb": {"action": "reset"}}


def test_rng_forbidden_by_the_flavor_is_not_added():
    images = [{"id": IMAGE_ID, "name": "img", "hw_rng_model": "virtio"}]
    r = run([server(flavor={"extra_specs": {"hw_rng:allowed": "False"}})], images)
    assert "rng" not in domain(the_vm(r))["devices"]


def test_windows_gets_hyperv_enlightenments_and_a_clock_note():
    images = [{"id": IMAGE_ID, "name": "win", "os_type": "windows"}]
    r = run([server()], images)
    d = domain(the_vm(r))
    assert {"relaxed", "vapic", "spinlocks", "synic"} <= set(d["features"]["hyperv"])
    assert d["clock"]["timer"]["hyperv"] == {}
    (field, status, reason), = entries(r, "image.properties.os_type")
    assert status == "approximated" and "localtime" in reason


def test_vtpm_from_the_flavor_is_persistent():
    d = domain(the_vm(run([server(flavor={"extra_specs": {"hw:tpm_version": "2.0"}})])))
    assert d["devices"]["tpm"] == {"persistent": True}


def test_unknown_extra_spec_and_image_property_are_reported_as_dropped():
    images = [{"id": IMAGE_ID, "name": "img", "my_custom_prop": "x"}]
    r = run([server(flavor={"extra_specs": {"quota:cpu_shares": "1024", "hw:numa_nodes": "2"}})], images)
    statuses = {f: s for f, s, _ in entries(r, "")}
    assert statuses["image.properties.my_custom_prop"] == "dropped"
    assert statuses["flavor.extra_specs.quota:cpu_shares"] == "dropped"
    assert statuses["flavor.extra_specs.hw:numa_nodes"] == "dropped"


@pytest.mark.parametrize("status,strategy,report_status", [("ACTIVE", "Always", "mapped"),
                                                           ("SHUTOFF", "Halted", "mapped"),
                                                           ("PAUSED", "Halted", "approximated"),
                                                           ("ERROR", "Halted", "approximated")])
def test_run_strategy_from_status(status, strategy, report_status):
    r = run([server(status=status)])
    assert the_vm(r)["spec"]["runStrategy"] == strategy
    assert [s for f, s, _ in entries(r, "status")] == [report_status]


def test_run_strategy_flag_overrides_the_status():
    assert the_vm(run([server()], options=Options(run_strategy="Halted")))["spec"]["runStrategy"] == "Halted"


def test_names_are_made_dns_safe_and_unique_with_the_originals_kept():
    r = run([server(name="Web_01", sid="aaaaaaaa-0000-0000-0000-000000000001"),
             server(name="web 01", sid="aaaaaaaa-0000-0000-0000-000000000002")])
    got = vms(r)
    assert sorted(got) == ["web-01", "web-01-" + sorted(got)[1].rsplit("-", 1)[1]]
    originals = sorted(vm["metadata"]["annotations"]["vmmove.io/openstack-name"] for vm in got.values())
    assert originals == ["Web_01", "web 01"]
    again = vms(run([server(name="Web_01", sid="aaaaaaaa-0000-0000-0000-000000000001"),
                     server(name="web 01", sid="aaaaaaaa-0000-0000-0000-000000000002")]))
    assert sorted(again) == sorted(got), "the same input yields the same names"


def test_metadata_and_tags_become_labels_with_originals_in_annotations():
    vm = the_vm(run([server(metadata={"Owner": "Team Web!", "role": "db"}, tags=["prod", "tier:web"])]))
    labels = vm["metadata"]["labels"]
    assert labels["metadata.openstack.vmmove.io/Owner"] == "Team-Web"
    assert labels["metadata.openstack.vmmove.io/role"] == "db"
    assert labels["tag.openstack.vmmove.io/tier-web"] == "true"
    assert vm["metadata"]["annotations"]["vmmove.io/openstack-metadata"] == '{"Owner": "Team Web!", "role": "db"}'
    assert vm["metadata"]["annotations"]["vmmove.io/openstack-tags"] == '["prod", "tier:web"]'


def test_instancetypes_take_cpu_and_memory_out_of_the_vm():
    specs = {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "2048"}
    images = [{"id": IMAGE_ID, "name": "Ubuntu 22.04", "hw_disk_bus": "scsi", "hw_firmware_type": "uefi"}]
    r = run([server(flavor={"name": "m1.large", "vcpus": 4, "ram": 8192, "extra_specs": specs}),
             server(name="vm-b", sid="aaaaaaaa-0000-0000-0000-000000000002",
                    flavor={"name": "m1.large", "vcpus": 4, "ram": 8192, "extra_specs": specs})],
            images, Options(instancetypes=True))
    its = [o for o in r.objects if o["kind"] == "VirtualMachineInstancetype"]
    prefs = [o for o in r.objects if o["kind"] == "VirtualMachinePreference"]
    assert len(its) == 1 and len(prefs) == 1, "one per flavor and image, shared by both VMs"
    assert its[0]["metadata"]["name"] == "m1-large"
    assert its[0]["spec"] == {"cpu": {"guest": 4, "dedicatedCPUPlacement": True},
                              "memory": {"guest": "8192Mi", "hugepages": {"pageSize": "2Mi"}}}
    assert prefs[0]["metadata"]["name"] == "ubuntu-22-04"
    assert prefs[0]["spec"]["devices"]["preferredDiskBus"] == "scsi"
    assert prefs[0]["spec"]["firmware"] == {"preferredEfi": {"secureBoot": False}}
    for vm in vms(r).values():
        assert vm["spec"]["instancetype"] == {"kind": "VirtualMachineInstancetype", "name": "m1-large"}
        assert "cpu" not in domain(vm) and "memory" not in domain(vm)
        assert domain(vm)["firmware"] == {"uuid": vm["metadata"]["annotations"]["vmmove.io/openstack-id"]}


def test_pci_alias_becomes_host_devices_only_when_mapped():
    flavor = {"extra_specs": {"pci_passthrough:alias": "a100:2"}}
    r = run([server(flavor=flavor)])
    assert "hostDevices" not in domain(the_vm(r))["devices"]
    assert "--pci-alias-map a100=" in entries(r, "flavor.extra_specs.pci_passthrough")[0][2]
    r = run([server(flavor=flavor)], options=Options(pci_alias_map={"a100": "nvidia.com/A100"}))
    assert domain(the_vm(r))["devices"]["hostDevices"] == [
        {"deviceName": "nvidia.com/A100", "name": "a100-0"}, {"deviceName": "nvidia.com/A100", "name": "a100-1"}]


def test_every_raw_server_field_is_accounted_for():
    raw = server(accessIPv4="1.2.3.4", hostId="abc", progress=0, something_new={"a": 1})
    r = run([raw])
    fields = {f.split(".")[0] for kind, _, f, *_ in iter_entries(r.report) if kind == "Server"}
    missing = set(raw) - fields
    assert not missing
    assert ("something_new", "dropped") in [(f, s) for f, s, _ in entries(r, "something_new")]


def test_guest_numa_nodes_with_dedicated_cpus_and_hugepages_pass_the_host_layout_through():
    # KubeVirt's guestMappingPassthrough needs dedicatedCpuPlacement and hugepages (KubeVirt NUMA user guide)
    specs = {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "1GB", "hw:numa_nodes": "2"}
    r = run([server(flavor={"vcpus": 8, "extra_specs": specs})])
    assert domain(the_vm(r))["cpu"]["numa"] == {"guestMappingPassthrough": {}}
    (entry,) = entries(r, "flavor.extra_specs.hw:numa_nodes")
    assert entry[1] == "approximated" and "2" in entry[2]


def test_guest_numa_nodes_without_dedicated_cpus_stay_dropped():
    r = run([server(flavor={"vcpus": 8, "extra_specs": {"hw:numa_nodes": "2"}})])
    assert "numa" not in domain(the_vm(r))["cpu"]
    assert entries(r, "flavor.extra_specs.hw:numa_nodes")[0][1] == "dropped"


def test_guest_numa_passthrough_moves_into_the_instancetype():
    specs = {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "2048", "hw:numa_nodes": "1"}
    r = run([server(flavor={"vcpus": 4, "extra_specs": specs})], options=Options(instancetypes=True))
    (it,) = [o for o in r.objects if o["kind"] == "VirtualMachineInstancetype"]
    assert it["spec"]["cpu"]["numa"] == {"guestMappingPassthrough": {}}
    assert "cpu" not in domain(the_vm(r))
