"""Reading every input shape into the one model: export documents, API JSON at several microversions, CLI JSON."""

import json
import os

import pytest

from kubectl_vmmove.errors import UserError
from kubectl_vmmove.openstack.read import cli_output as osc
from kubectl_vmmove.openstack.read.inputs import RawInput, read_data, read_paths
from kubectl_vmmove.openstack.read.normalise import normalise
from tests import shared

FIXTURES = str(shared.FIXTURES / "openstack")
DATA = os.path.join(os.path.dirname(__file__), "data", "openstack")
SAMPLE = os.path.join(DATA, "sample-export.yaml")


def fx(*parts):
    return os.path.join(FIXTURES, *parts)


def load_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def estate_of(*paths):
    return normalise(read_paths(list(paths)))


def test_sample_export_reads_every_kind():
    e = estate_of(SAMPLE)
    assert len(e.servers) == 6 and len(e.projects) == 2 and len(e.domains) == 2
    assert {s.name for s in e.servers.values()} >= {"web-01", "win-01", "DB_01 (primary)"}
    assert len(e.quotas) == 2 and len(e.role_assignments) == 6
    assert any("forbidden" in w for w in e.warnings), "the export's own warnings are passed on"


def test_embedded_flavor_at_2_47_needs_no_flavor_listing():
    e = estate_of(fx("nova", "server-show-v2.47.json"))
    s = next(iter(e.servers.values()))
    assert s.flavor.name == "m1.tiny.specs" and s.flavor.ram_mib == 512 and s.flavor.extra_specs == {"hw:numa_nodes": "1"}
    assert s.user_data_b64.startswith("IyEvYmluL2Jhc2g")
    assert s.volume_ids == ["volume_id1", "volume_id2"]


def test_base_microversion_flavor_is_resolved_from_the_flavor_listing():
    e = estate_of(fx("nova", "servers-details-v2.1.json"), fx("nova", "flavors-detail-v2.1.json"))
    s = next(iter(e.servers.values()))
    assert s.flavor.name == "m1.tiny" and s.flavor.swap_mib == 0, "swap '' before 2.75 means no swap"


def test_server_naming_a_missing_flavor_is_an_error_naming_file_and_field():
    with pytest.raises(UserError) as err:
        estate_of(fx("nova", "servers-details-v2.1.json"))
    msg = str(err.value)
    assert "servers-details-v2.1.json: servers[0]" in msg and "flavor.id '1'" in msg


def test_missing_image_is_a_warning_not_an_error():
    e = estate_of(fx("nova", "server-show-v2.47.json"))
    assert any("image.id" in w and "not in the input" in w for w in e.warnings)


def test_image_properties_embedded_at_2_100_need_no_image_listing():
    e = estate_of(fx("nova", "server-show-v2.100.json"))
    s = next(iter(e.servers.values()))
    assert s.image_properties == {"architecture": "x86_64", "auto_disk_config": "True"}
    assert not any("image.id" in w for w in e.warnings)


def test_down_cell_record_is_skipped_with_a_warning():
    e = estate_of(fx("nova", "server-show-v2.71-down-cell.json"))
    assert not e.servers and len(e.skipped) == 1
    assert any("down cell" in w for w in e.warnings)


def test_invalid_json_names_file_and_position():
    with pytest.raises(UserError) as err:
        estate_of(fx("keystone", "role-assignments-effective-include-names.INVALID.json"))
    assert "role-assignments-effective-include-names.INVALID.json: invalid JSON at line" in str(err.value)


def test_invalid_yaml_names_file_and_position(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("kind: OpenStackExport\nresources:\n  servers: [\n")
    with pytest.raises(UserError) as err:
        estate_of(str(bad))
    assert "broken.yaml: invalid YAML at line" in str(err.value)


def test_unknown_shape_is_an_error():
    out = RawInput()
    with pytest.raises(UserError) as err:
        read_data({"hello": "world"}, "x.json", out)
    assert "x.json: cannot tell what OpenStack object this is" in str(err.value)


def test_unenveloped_address_group_is_recognised_by_its_fields():
    e = estate_of(fx("neutron", "address-group-show-NO-ENVELOPE.json"))
    ag = next(iter(e.address_groups.values()))
    assert ag.addresses == ["10.0.1.34/32", "192.168.100.0/24"]


def test_volume_list_with_pagination_and_string_booleans():
    e = estate_of(fx("cinder", "volumes-list-detail-v2-image-metadata.json"))
    vols = {v.name: v for v in e.volumes.values()}
    assert vols["test-volume"].bootable is True and vols["test-volume-attachments"].bootable is False
    assert vols["test-volume-attachments"].multiattach is True
    assert vols["test-volume"].image_metadata["image_name"] == "cirros-0.3.4-x86_64-uec"


def test_glance_properties_are_flattened_top_level_keys():
    e = estate_of(fx("glance", "rackspace-images-list-vendor-props.json"))
    img = next(iter(e.images.values()))
    assert img.properties["os_type"] == "linux" and "disk_format" not in img.properties
    assert img.min_disk_gib == 20


def test_nova_image_proxy_nests_properties_under_metadata():
    e = estate_of(fx("nova", "image-show-via-nova-proxy.json"))
    img = next(iter(e.images.values()))
    assert img.properties["architecture"] == "x86_64" and img.min_disk_gib == 0


def test_default_rule_template_parent_sentinel_points_at_the_owning_group():
    out = RawInput()
    read_data({"security_group": {"id": "sg1", "name": "g", "security_group_rules": [
        {"id": "r1", "direction": "ingress", "ethertype": "IPv4", "remote_group_id": "PARENT"}]}}, "t", out)
    e = normalise(out)
    assert e.security_groups["sg1"].rules[0].remote_group_id == "sg1"


def test_nova_proxy_rule_shape_becomes_a_neutron_rule():
    out = RawInput()
    read_data(load_json(fx("nova", "os-security-group-rule.json")), "nova-rule.json", out)
    e = normalise(out)
    rule = e.security_groups["d6f86d8c-06ef-4bef-8e7c-8bf8f9ba9b7a"].rules[0]
    assert (rule.direction, rule.protocol, rule.port_min, rule.port_max, rule.remote_ip_prefix) == \
        ("ingress", "tcp", 22, 22, "10.0.0.0/24")


def test_flat_rule_listing_merges_into_the_group_without_duplicates():
    e = estate_of(fx("neutron", "security-group-show-default.json"), fx("neutron", "security-group-rules-list.json"))
    sg = e.security_groups["85cc3048-abc3-43cc-89b3-377341426ac5"]
    assert len(sg.rules) == 4 and sg.name == "default"


def test_cli_server_show_strings_are_parsed_back(tmp_path):
    flavor = load_json(fx("cli-json", "osc-flavor-show-gpu-stringified-properties.json"))
    flavor.update(id="7627a6a5-0d38-4187-afc1-b9dd40d64e80", name="m1.tiny")
    (tmp_path / "flavor.json").write_text(json.dumps(flavor))
    e = estate_of(fx("cli-json", "osc-server-show-2018-stringified.json"), str(tmp_path / "flavor.json"))
    assert next(iter(e.flavors.values())).extra_specs["pci_passthrough:alias"] == "GPU:1"
    s = next(iter(e.servers.values()))
    assert s.image_id == "a4db6a58-2824-4ebc-bcc2-75644443854f"
    assert s.flavor_id == "7627a6a5-0d38-4187-afc1-b9dd40d64e80"
    assert [(a.network_name, a.address) for a in s.addresses] == [("PRIVATE_NET", "192.168.0.18")]
    assert s.security_group_names == ["default"]


def test_cli_flavor_properties_string_with_spaces_and_colons():
    props = osc.parse_kv("Accelerator:Model='Tesla K20m', pci_passthrough:alias='GPU:1', a='x, y'")
    assert props == {"Accelerator:Model": "Tesla K20m", "pci_passthrough:alias": "GPU:1", "a": "x, y"}


def test_cli_addresses_with_several_networks_and_addresses():
    assert osc.addresses("net=10.0.0.5, 172.24.4.9; net2=fd00::5") == {
        "net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"},
                {"addr": "172.24.4.9", "version": 4, "OS-EXT-IPS:type": "fixed"}],
        "net2": [{"addr": "fd00::5", "version": 6, "OS-EXT-IPS:type": "fixed"}]}


def test_floating_address_in_cli_output_is_recognised_from_the_floating_ip_listing(tmp_path):
    server = {"id": "s1", "name": "a", "status": "ACTIVE", "flavor": "m1 (f1)", "image": "",
              "addresses": "net=10.0.0.3, 172.24.4.228"}
    (tmp_path / "s.json").write_text(json.dumps(server))
    (tmp_path / "f.json").write_text(json.dumps({"flavors": [{"id": "f1", "name": "m1", "vcpus": 1, "ram": 64, "disk": 1}]}))
    e = normalise(read_paths([str(tmp_path), fx("neutron", "floatingips-list.json")]))
    kinds = {a.address: a.kind for a in e.servers["s1"].addresses}
    assert kinds == {"10.0.0.3": "fixed", "172.24.4.228": "floating"}
    assert e.servers["s1"].image_id is None, "an empty image means boot from volume"


def test_volume_attachment_listing_sets_device_names():
    out = RawInput()
    read_data({"volume": {"id": "227cc671-f30b-4488-96fd-7d0bf13648d8", "size": 1}}, "v", out)
    read_data(load_json(fx("nova", "volume-attachments-v2.89.json")), "att", out)
    e = normalise(out)
    att = e.volumes["227cc671-f30b-4488-96fd-7d0bf13648d8"].attachments
    assert [(a.server_id, a.device) for a in att] == [("7696780b-3f53-4688-ab25-019bfcbbd806", "/dev/sdc")]


def test_keystone_subtree_and_role_assignment_shapes():
    e = estate_of(fx("keystone", "project-show-subtree.json"), fx("keystone", "role-assignments-list.json"))
    assert {p.name for p in e.projects.values()} >= {"Dev Group A", "Dev Group A Child 1", "Dev Group A Grandchild"}
    kinds = sorted((a.actor_kind, a.scope_kind) for a in e.role_assignments)
    assert kinds == [("group", "project"), ("user", "domain")]


def test_cli_server_naming_an_absent_flavor_is_an_error():
    with pytest.raises(UserError) as err:
        estate_of(fx("cli-json", "osc-server-show-2018-stringified.json"))
    assert "osc-server-show-2018-stringified.json" in str(err.value) and "flavor.id" in str(err.value)


def test_a_server_create_request_is_rejected_clearly():
    with pytest.raises(UserError) as err:
        estate_of(fx("nova", "server-create-req-v2.67-bfv.json"))
    assert "create request" in str(err.value)


def test_every_other_valid_upstream_fixture_reads_without_error():
    needs_more = ("INVALID", "servers-details", "server-create-req", "osc-server-show")
    for root, _, files in os.walk(FIXTURES):
        for name in sorted(files):
            if not name.endswith(".json") or any(n in name for n in needs_more):
                continue
            normalise(read_paths([os.path.join(root, name)]))


def test_server_list_output_says_what_it_lacks_and_converts_what_it_names():
    listing = os.path.join(DATA, "osc-server-list.json")
    e = estate_of(listing, fx("nova", "flavors-detail-v2.1.json"), fx("glance", "image-show.json"))
    assert any(w.startswith(f"{listing}: this is 'openstack server list' output") and
               "'openstack server show <server> -f json'" in w and "kubectl vmmove openstack export" in w
               for w in e.warnings)
    web, db = e.servers["0e44cc9c-e052-415d-afbf-469b0d384170"], e.servers["f4fda93b-06e0-4743-8117-bc8bcecd651b"]
    assert (web.flavor.name, web.flavor.ram_mib) == ("m1.small", 2048)
    assert web.image_id == "1bea47ed-f6a9-463b-b423-14b9cca9ad27", "the image is resolved by its name"
    assert [(a.network_name, a.address, a.mac) for a in web.addresses] == [
        ("private-network", "192.0.0.10", None), ("private-network", "172.24.4.228", None)]
    assert db.image_id is None and db.flavor.name == "m1.medium", "N/A (booted from volume) means no image"
    # a flavor named by no listing cannot size the VM: that server is skipped with a warning, the rest converts
    assert [s.name for s in e.skipped] == ["legacy-01"]
    assert any("'legacy-01' names flavor 'm1.custom-retired', which is not in the input; skipped" in w
               for w in e.warnings)


def test_server_list_long_output_with_ids_and_old_string_columns():
    e = estate_of(os.path.join(DATA, "osc-server-list-long.json"), fx("nova", "flavors-detail-v2.1.json"))
    web = e.servers["0e44cc9c-e052-415d-afbf-469b0d384170"]
    assert web.flavor_id == "2" and web.flavor.name == "m1.small"
    assert web.image_id == "1bea47ed-f6a9-463b-b423-14b9cca9ad27"
    assert web.metadata == {"role": "web", "tier": "frontend"}
    assert web.availability_zone == "nova"
    assert [a.address for a in web.addresses] == ["192.0.0.10", "172.24.4.228"]
    assert e.servers["f4fda93b-06e0-4743-8117-bc8bcecd651b"].image_id is None


def test_server_show_output_is_not_mistaken_for_a_listing():
    out = RawInput()
    read_data([load_json(fx("cli-json", "osc-server-show-2018-stringified.json"))], "show", out)
    assert not out.listed_servers and not any("server list" in w for w in out.warnings)
    assert out.records["servers"][0][0]["flavor"]["id"] == "7627a6a5-0d38-4187-afc1-b9dd40d64e80"
