"""`kubectl vmmove openstack convert` end to end: the sample export and upstream fixtures through the CLI, schema
validation of every manifest, deterministic bytes, the GitOps tree, the report, secrets kept out of logs, and a
server-side dry run of the tree against kubesim with the real kubectl."""

import base64
import json
import os
import shutil
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml

from kubectl_vmmove.cli import main
from tests import shared
from tests.kubesim.fixtures import kubesim  # noqa: F401  (pytest fixture)

HERE = os.path.dirname(__file__)
SAMPLE = os.path.join(HERE, "data", "openstack", "sample-export.yaml")
FIXTURES = str(shared.FIXTURES / "openstack")
SCHEMAS = str(shared.SCHEMAS)
SECRET_IN_USER_DATA = "s3cr3t-Pa55"
SAMPLE_FLAGS = ["--network-map", "web-net=pod", "--network-map", "ds-net=pod",
                "--network-map", "storage-net=multus:infra/storage", "--static-ips", "--quotas",
                "--storage-class-map", "ssd=fast", "--storage-class-map", "hdd=standard",
                "--storage-class-map", "glance=standard", "--pci-alias-map", "a100=nvidia.com/GA100_A100",
                "--lb-ip-annotation", "metallb.universe.tf/loadBalancerIPs", "--subject-prefix", "oidc:"]

_validators = {}


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def validate(obj):
    """VM/DV/instancetype against the upstream CRD schemas; core kinds with kubernetes-validate (1.32, strict)."""
    api, kind = obj["apiVersion"], obj["kind"]
    assert set(obj) <= {"apiVersion", "kind", "metadata", "spec", "data", "type", "roleRef", "subjects"}
    group, _, version = api.rpartition("/")
    if group in ("kubevirt.io", "cdi.kubevirt.io", "instancetype.kubevirt.io"):
        path = os.path.join(SCHEMAS, group, f"{kind.lower()}_{version}.json")
        if not os.path.exists(path):
            assert kind == "VirtualMachinePreference", f"no schema for {api} {kind}"
            return
        if path not in _validators:
            with open(path) as fh:
                _validators[path] = jsonschema.Draft7Validator(json.load(fh))
        errors = [f"{list(e.path)}: {e.message}" for e in _validators[path].iter_errors(obj)]
        assert not errors, f"{kind} {obj['metadata']['name']}: {errors[:3]}"
    elif group == "projectcalico.org":
        assert kind == "NetworkPolicy" and obj["spec"]["selector"]
    else:
        kubernetes_validate.validate(obj, "1.32", strict=True)


def convert(capsys, *args):
    code = main(["openstack", "convert", *args])
    out, err = capsys.readouterr()
    return code, out, err


def objects_of(out):
    return [d for d in yaml.safe_load_all(out) if d]


def test_sample_export_converts_and_every_manifest_validates(capsys):
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--calico", "--instancetypes")
    assert code == 0, err
    objs = objects_of(out)
    kinds = sorted({o["kind"] for o in objs})
    assert kinds == ["DataVolume", "Namespace", "NetworkPolicy", "ResourceQuota", "RoleBinding", "Secret", "Service",
                     "VirtualMachine", "VirtualMachineInstancetype", "VirtualMachinePreference"]
    assert len([o for o in objs if o["kind"] == "VirtualMachine"]) == 6
    for obj in objs:
        validate(obj)
    assert err.strip().splitlines()[-1].startswith(f"converted 6 servers into {len(objs)} objects: ")
    assert "warning:" in err and "forbidden" in err


def test_sample_export_without_options_that_change_shape_also_validates(capsys):
    code, out, _ = convert(capsys, SAMPLE, "--network-map", "web-net=pod", "--network-map", "ds-net=pod",
                           "--network-map", "storage-net=ignore", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "List"
    for obj in doc["items"]:
        validate(obj)


def test_output_is_byte_identical_across_runs(capsys):
    first = convert(capsys, SAMPLE, *SAMPLE_FLAGS)[1]
    second = convert(capsys, SAMPLE, *SAMPLE_FLAGS)[1]
    assert first == second and first.startswith("---\napiVersion: v1\nkind: Namespace\n")


def test_upstream_fixture_directory_converts_and_validates(tmp_path, capsys):
    for rel in ("nova/server-show-v2.100.json", "nova/server-show-v2.47.json", "nova/flavors-detail-v2.1.json",
                "nova/servers-details-v2.1.json", "nova/server-show-v2.71-down-cell.json",
                "nova/keypair-show-v2.10.json", "nova/server-group-v2.64-anti-affinity.json",
                "neutron/security-group-show-default.json", "neutron/security-group-rules-list.json",
                "neutron/floatingips-list.json", "neutron/network-show-provider.json", "neutron/subnet-show.json",
                "neutron/address-group-show-NO-ENVELOPE.json", "cinder/volumes-list-detail-v2-image-metadata.json",
                "cinder/volume-types-list.json", "glance/image-show.json", "keystone/projects-list.json",
                "keystone/domains-list.json", "keystone/users-list.json", "keystone/groups-list.json",
                "keystone/role-assignments-list.json"):
        dest = tmp_path / rel.replace("/", "__")
        shutil.copy(os.path.join(FIXTURES, rel), dest)
    code, out, err = convert(capsys, str(tmp_path), "--network-map", "private=pod", "--calico", "--quotas")
    assert code == 0, err
    objs = objects_of(out)
    vm_names = [o["metadata"]["name"] for o in objs if o["kind"] == "VirtualMachine"]
    assert len(vm_names) == len(set(vm_names)) == 3, "three servers share one name: two get a suffix"
    assert all(n.startswith("new-server-test") for n in vm_names)
    for obj in objs:
        validate(obj)
    assert "down cell" in err


def test_invalid_input_exits_1_with_the_file_named_and_no_traceback(capsys):
    code, out, err = convert(capsys, os.path.join(FIXTURES, "keystone", "role-assignments-effective-include-names"
                                                                        ".INVALID.json"))
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "INVALID.json: invalid JSON at line" in err and "Traceback" not in err


def test_unmapped_network_exits_1_and_writes_nothing(tmp_path, capsys):
    code, out, err = convert(capsys, SAMPLE, "--network-map", "web-net=pod", "--output-dir", str(tmp_path / "tree"))
    assert code == 1 and "network 'ds-net'" in err and "network 'storage-net'" in err
    assert not (tmp_path / "tree").exists()


def test_usage_errors_exit_2(capsys):
    code, _, err = convert(capsys, SAMPLE, "--disk-source", "http")
    assert code == 2 and "--disk-url-template" in err
    code, _, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "-n", "migrated", "--namespace-template", "{project}")
    assert code == 2 and "-n and --namespace-template cannot be used together" in err
    code, _, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "-n", "Not_A_Label")
    assert code == 2 and "not a valid namespace name" in err
    code, _, err = convert(capsys, SAMPLE, "--report", "report.txt")
    assert code == 2 and "--report-format" in err
    assert main(["openstack", "convert"]) == 2
    assert "no input given" in capsys.readouterr().err
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--subject-template", "{user}")
    assert code == 2 and out == "" and "--subject-template '{user}': unknown field {user}" in err


def test_subject_template_flag_names_the_subjects(capsys):
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--subject-template", "{name}@{domain_id}")
    assert code == 0, err
    subjects = {s["name"] for o in objects_of(out) if o["kind"] == "RoleBinding" for s in o["subjects"]}
    assert subjects and all(s.startswith("oidc:") and "@" in s for s in subjects)


def test_strict_turns_warnings_into_an_error(capsys):
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--strict")
    assert code == 1 and out == "" and "--strict" in err


def test_gitops_tree_layout_rerun_changes_nothing_and_secrets_are_private(tmp_path, capsys):
    tree = tmp_path / "gitops"
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--output-dir", str(tree))
    assert code == 0 and out == ""
    top = yaml.safe_load((tree / "kustomization.yaml").read_text())
    assert top["resources"] == ["cluster", "default-web-shop", "engineering-data-science"]
    assert sorted(os.listdir(tree / "cluster")) == ["kustomization.yaml", "namespace-default-web-shop.yaml",
                                                    "namespace-engineering-data-science.yaml"]
    shop = sorted(os.listdir(tree / "default-web-shop"))
    assert "virtualmachine-web-01.yaml" in shop and "networkpolicy-sg-web.yaml" in shop
    kust = yaml.safe_load((tree / "default-web-shop" / "kustomization.yaml").read_text())
    assert sorted(kust["resources"]) == sorted(f for f in shop if f != "kustomization.yaml")
    secret = tree / "default-web-shop" / "secret-db-01-primary-cloudinit.yaml"
    assert oct(os.stat(secret).st_mode & 0o777) == "0o600"
    assert oct(os.stat(tree / "default-web-shop" / "virtualmachine-web-01.yaml").st_mode & 0o777) == "0o644"

    stamps = {p: os.stat(p).st_mtime_ns for p in tree.rglob("*") if p.is_file()}
    contents = {p: p.read_bytes() for p in stamps}
    code, _, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--output-dir", str(tree))
    assert code == 0 and f"0 files to {tree} ({len(stamps)} unchanged)" in err
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == stamps
    assert {p: p.read_bytes() for p in stamps} == contents


def test_gitops_tree_removes_only_its_own_stale_files(tmp_path, capsys):
    tree = tmp_path / "gitops"
    convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--output-dir", str(tree))
    mine = tree / "default-web-shop" / "virtualmachine-old.yaml"
    mine.write_text("metadata:\n  labels:\n    vmmove.io/converted-from: openstack\n")
    theirs = tree / "default-web-shop" / "configmap-hand-written.yaml"
    theirs.write_text("kind: ConfigMap\n")
    code, _, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--output-dir", str(tree))
    assert code == 0 and "1 stale removed" in err
    assert not mine.exists() and theirs.exists()


@pytest.mark.parametrize("ext,check", [
    ("md", lambda text: text.startswith("# OpenStack conversion report") and "## Dropped" in text),
    ("yaml", lambda text: yaml.safe_load(text)["kind"] == "OpenStackConversionReport"),
    ("json", lambda text: json.loads(text)["summary"]["servers"] == 6)])
def test_report_formats_and_no_secret_anywhere(tmp_path, capsys, ext, check):
    path = tmp_path / f"report.{ext}"
    code, out, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--report", str(path))
    assert code == 0
    text = path.read_text()
    assert check(text)
    assert f"see {path}" in err.splitlines()[-1]
    for leak in (SECRET_IN_USER_DATA, "AAAAC3NzaC1lZDI1NTE5", "packages: [nginx]"):
        assert leak not in text and leak not in err
    encoded = [o["data"]["userdata"] for o in objects_of(out) if o["kind"] == "Secret" and "userdata" in o.get("data", {})]
    assert any(SECRET_IN_USER_DATA in base64.b64decode(e).decode() for e in encoded), "the Secret itself carries it"
    assert not any(e in text or e in err for e in encoded)


def test_report_lists_every_field_of_every_server(tmp_path, capsys):
    path = tmp_path / "report.json"
    convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--report", str(path))
    report = json.loads(path.read_text())
    raw = {s["id"]: s for s in yaml.safe_load(read(SAMPLE))["resources"]["servers"]}
    for src in report["sources"]:
        if src["kind"] == "Server":
            reported = {f["field"].split(".")[0] for f in src["fields"]}
            assert set(raw[src["id"]]) <= reported, set(raw[src["id"]]) - reported
            assert all(f["status"] in ("mapped", "approximated", "dropped", "ignored") for f in src["fields"])
    s = report["summary"]
    assert s["mapped"] > 100 and s["approximated"] > 0 and s["dropped"] > 0


def test_omit_secret_values_writes_annotated_empty_secrets(capsys):
    _, out, _ = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--omit-secret-values")
    secrets = [o for o in objects_of(out) if o["kind"] == "Secret"]
    assert secrets and all("data" not in s and s["metadata"]["annotations"]["vmmove.io/fill-in"] for s in secrets)
    assert SECRET_IN_USER_DATA not in out


def test_name_output(capsys):
    _, out, _ = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "-o", "name")
    assert "virtualmachine.kubevirt.io/web-01" in out.splitlines()
    assert out.splitlines()[0] == "namespace/default-web-shop"


def test_tree_applies_with_kubectl_server_dry_run_on_kubesim(tmp_path, capsys, kubesim):  # noqa: F811
    tree = tmp_path / "gitops"
    code, _, err = convert(capsys, SAMPLE, *SAMPLE_FLAGS, "--instancetypes", "--output-dir", str(tree))
    assert code == 0, err
    kubectl = ["kubectl", "--kubeconfig", kubesim.kubeconfig_path]
    # Server-side dry run keeps nothing, so the namespaces the other objects live in are created first.
    done = subprocess.run(kubectl + ["apply", "-f", str(tree / "cluster" / "namespace-default-web-shop.yaml"),
                                     "-f", str(tree / "cluster" / "namespace-engineering-data-science.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(kubectl + ["apply", "--dry-run=server", "-k", str(tree)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "virtualmachine.kubevirt.io/web-01 created (server dry run)" in done.stdout
    assert "networkpolicy.networking.k8s.io/sg-web created (server dry run)" in done.stdout


def test_stdin_and_the_namespace_flag_put_everything_in_one_namespace(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(read(SAMPLE)))
    code, out, err = convert(capsys, "-", *SAMPLE_FLAGS, "-n", "migrated")
    assert code == 0, err
    objs = objects_of(out)
    assert {o["metadata"].get("namespace", o["metadata"]["name"]) for o in objs} == {"migrated"}
    assert sorted(o["metadata"]["name"] for o in objs if o["kind"] == "VirtualMachine") == [
        "db-01-primary", "gpu-01", "notebook-01", "web-01", "web-02", "win-01"]


def test_server_list_output_warns_naming_the_file_and_still_converts(capsys):
    listing = os.path.join(HERE, "data", "openstack", "osc-server-list.json")
    code, out, err = convert(capsys, listing, os.path.join(FIXTURES, "nova", "flavors-detail-v2.1.json"),
                             "--network-map", "net1=pod", "--network-map", "private-network=pod")
    assert code == 0, err
    assert f"warning: {listing}: this is 'openstack server list' output" in err
    objs = objects_of(out)
    for obj in objs:
        validate(obj)
    vms = {o["metadata"]["name"]: o for o in objs if o["kind"] == "VirtualMachine"}
    assert sorted(vms) == ["db-01", "web-01"]
    assert vms["web-01"]["spec"]["template"]["spec"]["domain"]["memory"]["guest"] == "2048Mi"
    code, _, err = convert(capsys, listing, os.path.join(FIXTURES, "nova", "flavors-detail-v2.1.json"),
                           "--network-map", "net1=pod", "--network-map", "private-network=pod", "--strict")
    assert code == 1 and "legacy-01" in err
