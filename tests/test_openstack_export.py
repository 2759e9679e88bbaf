"""`kubectl vmmove openstack export` end to end: the real openstacksdk Connection against the fake cloud over HTTP.

Nothing in openstack.* is patched: authentication, the service catalog, version discovery, microversion headers
and paging all run as against a real cloud (tests/openstack_cloud/).
"""

import json
import os
import socket
import stat
import subprocess
import sys

import jsonschema
import pytest
import yaml

from kubectl_vmmove.cli import main
from tests.openstack_cloud import FakeOpenStack
from tests.openstack_cloud import cloud as c

LIST_KEYS = ("servers", "flavors", "images", "volumes", "volume_types", "networks", "subnets", "ports",
             "security_groups", "address_groups", "floating_ips", "keypairs", "server_groups", "projects", "domains",
             "users", "groups", "role_assignments", "roles")

# The export document contract agreed with `openstack convert` (see the task's "export document" section).
CONTRACT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "warnings", "resources"],
    "properties": {
        "apiVersion": {"const": "vmmove.io/v1alpha1"},
        "kind": {"const": "OpenStackExport"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["exportedAt", "cloud", "authUrl", "region", "scope", "tool"],
            "properties": {
                "exportedAt": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
                "cloud": {"type": "string"},
                "authUrl": {"type": "string"},
                "region": {"type": "string"},
                "scope": {"type": "object", "additionalProperties": False, "required": ["project", "allProjects"],
                          "properties": {"project": {"type": ["string", "null"]}, "allProjects": {"type": "boolean"}}},
                "tool": {"type": "string", "pattern": r"^kubectl-vmmove \S+$"},
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "required": list(LIST_KEYS) + ["quotas"],
            "properties": dict(
                {key: {"type": "array", "items": {"type": "object"}} for key in LIST_KEYS},
                quotas={"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": False,
                    "properties": {p: {"type": "object"} for p in ("compute", "volume", "network")}}},
            ),
        },
    },
}

DEMO_FLAGS = ["--os-username", "demo", "--os-password", c.PASSWORDS["demo"], "--os-project-name", "demo",
              "--os-user-domain-name", "Default", "--os-project-domain-name", "Default"]
ADMIN_FLAGS = ["--os-username", "admin", "--os-password", c.PASSWORDS["admin"], "--os-project-name", "admin",
               "--os-user-domain-name", "Default", "--os-project-domain-name", "Default"]
SECRETS = list(c.PASSWORDS.values()) + [v[0] for v in c.APP_CREDENTIALS.values()]


@pytest.fixture(scope="module")
def fake():
    with FakeOpenStack() as server:
        yield server


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No OS_* variable or clouds.yaml of the machine running the tests may leak in."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty-clouds.yaml"
    empty.write_text("clouds: {}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(empty))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(empty))
    monkeypatch.chdir(tmp_path)


class Sleeps(list):
    """Records the waits the exporter asked for instead of sleeping: retries run on simulated time."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch):
    from kubectl_vmmove.openstack.export import retries

    recorded = Sleeps()
    real = retries.default_policy

    def simulated():
        policy = real()
        policy.sleep = recorded
        return policy

    monkeypatch.setattr(retries, "default_policy", simulated)
    return recorded


def export(capsys, fake, *argv):
    if fake is not None:
        fake.requests.clear()
    code = main(["openstack", "export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def names(objs):
    return sorted(o.get("name") for o in objs)


# --------------------------------------------------------------------------------------------------- configuration


def test_non_admin_export_of_own_project_with_flags(capsys, fake, tmp_path):
    target = tmp_path / "export.yaml"
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "-f", str(target))
    assert code == 0, err
    assert out == ""
    doc = load(target)
    jsonschema.validate(doc, CONTRACT)
    res = doc["resources"]
    assert doc["metadata"]["scope"] == {"project": "demo", "allProjects": False}
    assert doc["metadata"]["authUrl"] == fake.auth_url
    assert names(res["servers"]) == ["db-01", "web-01", "web-02"]
    # user data is admin-only in nova: a member's export has none, and says nothing false about it
    assert not any("OS-EXT-SRV-ATTR:user_data" in s for s in res["servers"])
    # the private flavor this project has access to, with extra specs inline
    private = next(f for f in res["flavors"] if f["id"] == c.FLAVOR_PRIVATE)
    assert private["extra_specs"]["hw:cpu_sockets"] == "2"
    assert [p["id"] for p in res["projects"]] == [c.PROJECT_DEMO]
    # the project's own networks plus the shared and external ones its ports and floating IPs use
    assert names(res["networks"]) == ["net1", "private-network", "public"]
    assert {s["id"] for s in res["subnets"]} == {c.SUBNET_DEMO, c.SUBNET_PRIVATE}
    assert {i["id"] for i in res["images"]} == {c.IMAGE_UBUNTU, c.IMAGE_RHEL, c.IMAGE_CIRROS}
    assert [k["name"] for k in res["keypairs"]] == [c.KEYPAIR_DEMO]
    assert res["keypairs"][0]["public_key"].startswith("ssh-rsa ")
    assert list(res["quotas"]) == [c.PROJECT_DEMO]
    assert set(res["quotas"][c.PROJECT_DEMO]) == {"compute", "volume", "network"}
    for kind in ("users", "groups", "roles", "role_assignments", "domains"):
        assert res[kind] == []
    assert any(w.startswith("identity: listing users is forbidden") for w in doc["warnings"])
    assert any("role assignments" in w for w in doc["warnings"])
    for warning in doc["warnings"]:
        assert f"Warning: {warning}\n" in err


def test_admin_all_projects_from_environment(capsys, fake, monkeypatch, tmp_path):
    for name, value in {"OS_AUTH_URL": fake.auth_url, "OS_USERNAME": "admin", "OS_PASSWORD": c.PASSWORDS["admin"],
                        "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default",
                        "OS_PROJECT_DOMAIN_ID": "default", "OS_REGION_NAME": "RegionOne"}.items():
        monkeypatch.setenv(name, value)
    target = tmp_path / "all.yaml"
    code, _, err = export(capsys, fake, "--all-projects", "-f", str(target))
    assert code == 0, err
    doc = load(target)
    jsonschema.validate(doc, CONTRACT)
    res = doc["resources"]
    assert doc["warnings"] == []
    assert doc["metadata"]["cloud"] == "envvars"
    assert doc["metadata"]["region"] == "RegionOne"
    assert doc["metadata"]["scope"] == {"project": None, "allProjects": True}
    assert {s["id"] for s in res["servers"]} == {c.SERVER_WEB1, c.SERVER_WEB2, c.SERVER_DB1, c.SERVER_ALT}
    web1 = next(s for s in res["servers"] if s["id"] == c.SERVER_WEB1)
    assert web1["OS-EXT-SRV-ATTR:user_data"] == c.USER_DATA_WEB
    assert web1["flavor"]["original_name"] == "m1.small.description"  # embedded at >= 2.47
    # the down-cell record is kept as nova sent it, keys missing and all
    alt = next(s for s in res["servers"] if s["id"] == c.SERVER_ALT)
    assert alt["status"] == "UNKNOWN" and "name" not in alt
    assert len(res["users"]) == 13 and len(res["projects"]) == 8 and names(res["domains"]) == ["Default",
                                                                                               "swift_test"]
    demo_member = next(a for a in res["role_assignments"] if a.get("user", {}).get("id") == c.USER_DEMO)
    assert demo_member["user"]["name"] == "demo"
    assert demo_member["role"]["name"] == "member"
    assert demo_member["scope"]["project"]["name"] == "demo"
    assert names(res["keypairs"]) == sorted([c.KEYPAIR_ADMIN, c.KEYPAIR_DEMO])
    assert {k["name"]: k["user_id"] for k in res["keypairs"]}[c.KEYPAIR_DEMO] == c.USER_DEMO
    assert set(res["quotas"]) == {p["id"] for p in res["projects"]}
    assert names(res["server_groups"]) == ["alt-affinity", "web-anti-affinity"]
    servers_calls = fake.calls("/servers/detail")
    assert all(call["query"]["all_tenants"] == ["True"] for call in servers_calls)


@pytest.mark.parametrize("select", ["flag", "env"])
def test_clouds_yaml_and_secure_yaml_from_OS_CLIENT_CONFIG_FILE(capsys, fake, monkeypatch, tmp_path, select):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"mycloud": {
        "auth": {"auth_url": fake.auth_url, "username": "demo", "project_name": "demo",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}}}))
    secure = tmp_path / "secure.yaml"
    secure.write_text(yaml.safe_dump({"clouds": {"mycloud": {"auth": {"password": c.PASSWORDS["demo"]}}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure))
    argv = ["-f", "out.yaml"]
    if select == "flag":
        argv += ["--os-cloud", "mycloud"]
    else:
        monkeypatch.setenv("OS_CLOUD", "mycloud")
    code, _, err = export(capsys, fake, *argv)
    assert code == 0, err
    doc = load(tmp_path / "out.yaml")
    assert doc["metadata"]["cloud"] == "mycloud"
    assert doc["metadata"]["region"] == "RegionOne"
    assert names(doc["resources"]["servers"]) == ["db-01", "web-01", "web-02"]


def test_environment_overrides_clouds_yaml_and_flags_override_environment(capsys, fake, monkeypatch, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"mycloud": {"auth": {
        "auth_url": fake.auth_url, "username": "demo", "password": "stale-password", "project_name": "demo",
        "user_domain_name": "Default", "project_domain_name": "Default"}}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_PASSWORD", c.PASSWORDS["demo"])
    code, _, err = export(capsys, fake, "--os-cloud", "mycloud", "-f", "env.yaml")
    assert code == 0, err

    monkeypatch.setenv("OS_PASSWORD", "also-wrong")
    code, _, err = export(capsys, fake, "--os-cloud", "mycloud", "--os-password", c.PASSWORDS["demo"], "-f", "f.yaml")
    assert code == 0, err

    code, _, err = export(capsys, fake, "--os-cloud", "mycloud", "-f", "bad.yaml")
    assert code == 1 and "HTTP 401" in err


def test_application_credential_from_clouds_yaml(capsys, fake, monkeypatch, tmp_path):
    cred_id, (secret, _, _) = next(iter(c.APP_CREDENTIALS.items()))
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"appcred": {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": fake.auth_url, "application_credential_id": cred_id,
                 "application_credential_secret": secret}}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    code, out, err = export(capsys, fake, "--os-cloud", "appcred", "-f", "-")
    assert code == 0, err
    assert secret not in out and secret not in err
    doc = yaml.safe_load(out)
    assert doc["metadata"]["scope"]["project"] == "demo"
    assert fake.calls("/auth/tokens", "POST")[0]["status"] == 201


def test_existing_token(capsys, fake):
    demo = fake.cloud.user_by_name("demo")
    token, _ = fake.issue_token(demo, fake.cloud.project(c.PROJECT_DEMO))
    code, out, err = export(capsys, fake, "--os-auth-type", "token", "--os-auth-url", fake.auth_url,
                            "--os-token", token, "--os-project-id", c.PROJECT_DEMO, "--format", "json")
    assert code == 0, err
    assert token not in out
    assert names(json.loads(out)["resources"]["servers"]) == ["db-01", "web-01", "web-02"]


def test_tls_and_region_settings_merge_like_the_openstack_cli(monkeypatch, tmp_path):
    from kubectl_vmmove.errors import UserError
    from kubectl_vmmove.openstack.export.connection import load_config

    auth = {"auth_url": "https://keystone.example.com:5000/v3", "username": "u", "password": "p",
            "project_name": "x", "user_domain_name": "Default", "project_domain_name": "Default"}
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {
        "selfsigned": {"auth": auth, "verify": False},
        "private-ca": {"auth": auth, "cacert": "/etc/ssl/cloud-ca.pem", "region_name": "RegionTwo"}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    # clouds.yaml's verify: false survives when --insecure is not given
    assert load_config({"os_cloud": "selfsigned"}).get_requests_verify_args()[0] is False
    private = load_config({"os_cloud": "private-ca"})
    assert private.get_requests_verify_args()[0] == "/etc/ssl/cloud-ca.pem"
    assert private.region_name == "RegionTwo"
    assert load_config({"os_cloud": "private-ca", "os_cacert": "/tmp/other.pem"}).get_requests_verify_args()[0] \
        == "/tmp/other.pem"
    with pytest.warns(Warning):  # openstacksdk warns that a CA bundle and --insecure contradict each other
        assert load_config({"os_cloud": "private-ca", "insecure": True}).get_requests_verify_args()[0] is False
    assert load_config({"os_cloud": "private-ca", "os_interface": "internal"}).get_interface() == "internal"
    with pytest.raises(UserError, match="RegionNine is not a valid region name for cloud private-ca"):
        load_config({"os_cloud": "private-ca", "os_region_name": "RegionNine"})


# --------------------------------------------------------------------------------------------------- behaviour


def test_paging_across_many_pages(capsys):
    with FakeOpenStack(cloud=c.build_cloud(extra_demo_servers=7), page_size=3) as big:
        code, out, err = export(capsys, big, "--os-auth-url", big.auth_url, *DEMO_FLAGS, "--chunk-size", "100")
        assert code == 0, err
        servers = yaml.safe_load(out)["resources"]["servers"]
        calls = big.calls("/servers/detail")
    ids = [s["id"] for s in servers]
    assert len(ids) == 10 == len(set(ids))
    assert len(calls) == 4  # pages of 3, 3, 3 and 1: the server's cap wins over the client's limit
    assert calls[0]["query"]["limit"] == ["100"]
    assert [call["query"].get("marker") for call in calls[1:]] == [[ids[2]], [ids[5]], [ids[8]]]


def test_chunk_size_is_sent_as_limit(capsys, fake):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "--chunk-size", "1")
    assert code == 0, err
    assert names(yaml.safe_load(out)["resources"]["servers"]) == ["db-01", "web-01", "web-02"]
    assert [call["query"]["limit"] for call in fake.calls("/servers/detail")] == [["1"]] * 4


def test_newest_compute_microversion_by_default_and_configured_one_when_given(capsys, fake):
    code, out, _ = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS)
    assert code == 0
    assert {call["microversion"] for call in fake.calls("/servers/detail")} == {"compute 2.100"}
    assert not fake.calls("/os-extra-specs")

    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS,
                            "--os-compute-api-version", "2.1")
    assert code == 0, err
    res = yaml.safe_load(out)["resources"]
    assert {call["microversion"] for call in fake.calls("/servers/detail")} == {"compute 2.1"}
    web1 = next(s for s in res["servers"] if s["id"] == c.SERVER_WEB1)
    assert web1["flavor"]["id"] == c.FLAVOR_SPECS and "vcpus" not in web1["flavor"]
    # before 2.61 extra specs are a call per flavor; the document still carries them inline
    assert len(fake.calls("/os-extra-specs")) == len(res["flavors"])
    flavor = next(f for f in res["flavors"] if f["id"] == c.FLAVOR_SPECS)
    assert flavor["extra_specs"] == {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}
    assert flavor["swap"] == ""  # as nova answers below 2.75


def test_admin_exports_another_project(capsys, fake):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--project", "demo")
    assert code == 0, err
    doc = yaml.safe_load(out)
    res = doc["resources"]
    assert doc["metadata"]["scope"] == {"project": "demo", "allProjects": False}
    assert names(res["servers"]) == ["db-01", "web-01", "web-02"]
    assert fake.calls("/servers/detail")[0]["query"]["project_id"] == [c.PROJECT_DEMO]
    assert [k["name"] for k in res["keypairs"]] == [c.KEYPAIR_DEMO]  # the servers' owner's, read with user_id
    # only the servers' owner is asked: admin, who holds a role on the cloud but owns no demo server, is not
    assert {call["query"].get("user_id", [None])[0] for call in fake.calls("/os-keypairs")} == {c.USER_DEMO}
    # a project export carries the people holding roles on it, not the whole directory
    assert names(res["users"]) == ["demo"] and names(res["groups"]) == ["nonadmins"]
    assert {a["scope"]["project"]["id"] for a in res["role_assignments"]} == {c.PROJECT_DEMO}
    assert names(res["server_groups"]) == ["web-anti-affinity"]
    assert next(s for s in res["servers"] if s["id"] == c.SERVER_WEB1)["OS-EXT-SRV-ATTR:user_data"]


def test_other_users_key_pairs_need_microversion_2_10(capsys, fake):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--project", "demo",
                            "--os-compute-api-version", "2.9")
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["resources"]["keypairs"] == []  # never the admin's own keys passed off as demo's
    assert any("microversion 2.10" in w and "user demo" in w for w in doc["warnings"])


def test_floating_ip_port_forwardings_fetched_when_not_inline(capsys):
    for inline in (False, True):
        with FakeOpenStack(fip_port_forwardings_inline=inline) as cloud:
            code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
            assert code == 0, err
            fips = {f["id"]: f for f in yaml.safe_load(out)["resources"]["floating_ips"]}
            assert bool(cloud.calls("/port_forwardings")) is not inline
        assert [p["external_port"] for p in fips[c.FIP_FORWARDS]["port_forwardings"]] == [2225, 8786]
        assert fips[c.FIP_FREE]["port_forwardings"] == []


def test_service_missing_from_catalog_is_a_warning(capsys):
    with FakeOpenStack(services=("identity", "compute", "network", "image")) as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["resources"]["volumes"] == [] and doc["resources"]["volume_types"] == []
    assert any(w.startswith("volume: the service catalog has no volume endpoint") for w in doc["warnings"])
    assert names(doc["resources"]["servers"]) == ["db-01", "web-01", "web-02"]


def test_own_project_from_auth_projects_when_keystone_refuses_it(capsys):
    with FakeOpenStack(own_project_readable=False) as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert [p["name"] for p in doc["resources"]["projects"]] == ["demo"]
    assert any("GET /v3/auth/projects" in w for w in doc["warnings"])


def test_no_secret_reaches_the_document_or_the_terminal(capsys, fake, tmp_path):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--all-projects")
    assert code == 0
    for secret in SECRETS + list(fake.tokens):
        assert secret not in out and secret not in err


def test_the_export_converts_to_kubevirt_manifests(capsys, fake, tmp_path):
    target = tmp_path / "all.yaml"
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--all-projects",
                          "-f", str(target))
    assert code == 0, err
    code = main(["openstack", "convert", str(target), "-o", "yaml", "--network-map", "net1=pod",
                 "--network-map", "private-network=pod"])
    out, err = capsys.readouterr()
    assert code == 0, err
    docs = [d for d in yaml.safe_load_all(out) if d]
    vms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "VirtualMachine"}
    assert set(vms) == {"web-01", "web-02", "db-01"}
    # the exported port MAC and user data reach the VM: the raw shapes carried what the converter reads
    interfaces = vms["web-01"]["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]
    assert [i.get("macAddress") for i in interfaces] == [c.MAC_WEB1]
    assert any("cloudInitNoCloud" in v for v in vms["web-01"]["spec"]["template"]["spec"]["volumes"])


def convert_to_docs(capsys, path, *extra):
    code = main(["openstack", "convert", str(path), "-o", "yaml", "--network-map", "net1=pod",
                 "--network-map", "private-network=pod", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [d for d in yaml.safe_load_all(out) if d], err


def test_address_groups_are_exported_and_become_ip_blocks(capsys, fake, tmp_path):
    target = tmp_path / "demo.yaml"
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "-f", str(target))
    assert code == 0, err
    assert [(g["id"], g["addresses"]) for g in load(target)["resources"]["address_groups"]] == [
        (c.ADDRESS_GROUP_OFFICE, ["10.0.1.34/32", "192.168.100.0/24"])]
    assert fake.calls("/v2.0/address-groups")[0]["query"]["project_id"] == [c.PROJECT_DEMO]
    docs, _ = convert_to_docs(capsys, target)
    web = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "sg-web")
    https = [rule for rule in web["spec"]["ingress"] if rule.get("ports") == [{"port": 443, "protocol": "TCP"}]]
    assert https == [{"from": [{"ipBlock": {"cidr": "10.0.1.34/32"}}, {"ipBlock": {"cidr": "192.168.100.0/24"}}],
                      "ports": [{"port": 443, "protocol": "TCP"}]}]


def test_a_neutron_without_address_groups_warns_only_when_rules_name_one(capsys, tmp_path):
    target = tmp_path / "demo.yaml"
    with FakeOpenStack(address_groups_extension=False) as cloud:
        code, _, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS, "-f", str(target))
    assert code == 0, err
    doc = load(target)
    assert doc["resources"]["address_groups"] == []
    assert "network: security group rules name 1 address groups but this cloud serves no address-group API " \
           "(GET /v2.0/address-groups answered 404); convert drops those rules" in doc["warnings"]
    report = tmp_path / "report.json"
    docs, _ = convert_to_docs(capsys, target, "--report", str(report))
    web = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "sg-web")
    assert not any(rule.get("ports") == [{"port": 443, "protocol": "TCP"}] for rule in web["spec"]["ingress"])
    assert c.ADDRESS_GROUP_OFFICE in report.read_text()  # the loss report names what was dropped

    quiet = c.build_cloud()  # a cloud whose rules name no address group stays quiet
    for group in quiet.security_groups:
        group["security_group_rules"] = [r for r in group["security_group_rules"]
                                         if not r.get("remote_address_group_id")]
    with FakeOpenStack(cloud=quiet, address_groups_extension=False) as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
    assert code == 0, err
    assert not any("address" in w for w in yaml.safe_load(out)["warnings"])


# --------------------------------------------------------------------------------------------------- output


def test_file_is_created_0600_and_replaced_atomically(capsys, fake, tmp_path):
    target = tmp_path / "export.yaml"
    target.write_text("old")
    os.chmod(target, 0o644)
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "-f", str(target))
    finally:
        os.umask(old_umask)
    assert code == 0, err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert load(target)["kind"] == "OpenStackExport"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-clouds.yaml", "export.yaml"]
    assert f"wrote {target}: 3 servers" in err


def test_json_by_extension_and_by_flag(capsys, fake, tmp_path):
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "-f", "export.json")
    assert code == 0, err
    with open(tmp_path / "export.json", encoding="utf-8") as handle:
        jsonschema.validate(json.load(handle), CONTRACT)
    code, out, _ = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "--format", "json")
    assert code == 0
    jsonschema.validate(json.loads(out), CONTRACT)


def test_progress_is_one_line_per_collection_when_not_a_terminal(capsys, fake):
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS)
    assert code == 0
    lines = [line for line in err.splitlines() if not line.startswith("Warning: ")]
    assert "servers: 3" in lines and "floating_ips: 3" in lines and "quotas: 1" in lines
    collections = [line.split(":")[0] for line in lines]
    assert len(collections) == len(set(collections))


# --------------------------------------------------------------------------------------------------- errors


def test_wrong_password_is_a_clean_error(capsys, fake):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, "--os-username", "demo",
                            "--os-password", "wrong-pw", "--os-project-name", "demo",
                            "--os-user-domain-name", "Default", "--os-project-domain-name", "Default")
    assert code == 1 and out == ""
    assert err.startswith("error: authentication to the OS_* environment/flags (auth URL " + fake.auth_url)
    assert "HTTP 401" in err and "Traceback" not in err and "wrong-pw" not in err


def test_unreachable_auth_url_is_a_clean_error(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/identity"
    code, out, err = export(capsys, None, "--os-auth-url", url, *DEMO_FLAGS)
    assert code == 1 and out == ""
    assert err.startswith(f"error: cannot reach the identity service of the OS_* environment/flags (auth URL {url})")
    assert err.count("\n") == 1


def test_no_credentials_at_all(capsys):
    code, _, err = export(capsys, None)
    assert code == 1
    assert err.startswith("error: no OpenStack credentials: --os-auth-url missing")


def test_unknown_cloud_name(capsys):
    code, _, err = export(capsys, None, "--os-cloud", "nosuchcloud")
    assert code == 1
    assert err.startswith("error: OpenStack configuration: ") and "nosuchcloud" in err and "clouds.yaml" in err


def test_persistent_server_error_is_retried_a_bounded_number_of_times_then_a_clean_error(capsys, tmp_path,
                                                                                          sleeps):
    with FakeOpenStack(faults={"/os-server-groups": 500}) as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS, "-f", "x.yaml")
        url = f"{cloud.url}/compute/v2.1/os-server-groups"
        calls = cloud.calls("/os-server-groups")
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == (f"error: compute: GET {url} failed with HTTP 500 (tried 5 times): injected "
                                    "fault for /os-server-groups")
    assert len(calls) == 5 and len(sleeps) == 4
    # backoff grows (with jitter) and stays bounded
    assert 0 < sleeps[0] <= 1 and sleeps[3] > sleeps[0] and max(sleeps) <= 20
    assert not (tmp_path / "x.yaml").exists()


def test_a_503_then_success_rides_through_and_each_retry_shows_at_v4(capsys, sleeps):
    with FakeOpenStack(faults={"/servers/detail": [503]}) as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS, "-v", "4")
        url = f"{cloud.url}/compute/v2.1/servers/detail"
        statuses = [call["status"] for call in cloud.calls("/servers/detail")]
    assert code == 0, err
    assert names(yaml.safe_load(out)["resources"]["servers"]) == ["db-01", "web-01", "web-02"]
    assert statuses[:2] == [503, 200]
    assert len(sleeps) == 1
    retry_lines = [line for line in err.splitlines() if "retry" in line]
    assert len(retry_lines) == 1
    assert f"GET {url}?limit=500 answered HTTP 503 (injected fault for /servers/detail); retry 1 of 4 in" \
        in retry_lines[0]


def test_retries_are_quiet_without_v(capsys, sleeps):
    with FakeOpenStack(faults={"/servers/detail": [503]}) as cloud:
        code, _, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
    assert code == 0 and "retry" not in err and len(sleeps) == 1


def test_429_waits_as_long_as_retry_after_says(capsys, sleeps):
    with FakeOpenStack(faults={"/v2.0/ports": [(429, {"Retry-After": "7"}), (429, {"Retry-After": "7200"})]}) \
            as cloud:
        code, out, err = export(capsys, cloud, "--os-auth-url", cloud.auth_url, *DEMO_FLAGS)
    assert code == 0, err
    assert sleeps == [7.0, 60.0]  # the service's wait, but never more than a minute
    assert {p["id"] for p in yaml.safe_load(out)["resources"]["ports"]} >= {c.PORT_WEB1, c.PORT_WEB2, c.PORT_DB1}


def test_forbidden_and_not_found_are_never_retried(capsys, fake, sleeps):
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS)
    assert code == 0, err
    assert any(call["status"] == 403 for call in fake.requests)  # identity listings as a member
    assert sleeps == []


def test_all_projects_needs_admin(capsys, fake, tmp_path):
    code, out, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *DEMO_FLAGS, "--all-projects",
                            "-f", "x.yaml")
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("error: listing the servers of all projects is forbidden")
    assert not (tmp_path / "x.yaml").exists()


def test_unknown_project(capsys, fake):
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--project", "nope")
    assert code == 1
    assert err.splitlines()[-1] == ("error: project 'nope' not found (or not visible to these credentials); list "
                                    "projects with 'openstack project list'")


def test_project_and_all_projects_together_is_a_usage_error(capsys, fake):
    code, _, err = export(capsys, fake, "--os-auth-url", fake.auth_url, *ADMIN_FLAGS, "--project", "demo",
                          "--all-projects")
    assert code == 2
    assert "cannot be used together" in err


def test_building_the_verb_tree_does_not_import_openstack():
    probe = ("import sys; from kubectl_vmmove.cli import build_parser; build_parser(); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openstack', 'keystoneauth1')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.stdout.strip() == "[]"
