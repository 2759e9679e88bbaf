"""The krew manifest and release archive pass krew-index's checks (shared/reference/plugin-packaging.md 1.8, items
1-6), each rule rejects a manifest that breaks it, and the archive is reproducible and installable the krew way."""

import copy
import gzip
import hashlib
import io
import os
import tarfile

import pytest
import yaml

from kubectl_vmmove import __version__

from . import frozen_release
from .frozen_release import release_script
from .krew_validation import KrewInstallError, extract, install_like_krew, installed_license, manifest_problems

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "v" + __version__
# What the project means to ship; scripts/release adds one platform per archive it finds.
INTENDED_PLATFORMS = {("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")}


@pytest.fixture(scope="module")
def committed():
    with open(os.path.join(ROOT, "krew", "vmmove.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def good_manifest():
    return {
        "apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
        "kind": "Plugin",
        "metadata": {"name": "vmmove"},
        "spec": {
            "version": "v0.1.0",
            "shortDescription": "Move KubeVirt VMs",
            "description": "Moves VMs.\n",
            "platforms": [
                {"selector": {"matchLabels": {"os": "linux", "arch": "amd64"}},
                 "uri": "https://example.invalid/a.tar.gz", "sha256": "a" * 64, "bin": "kubectl-vmmove"},
                {"selector": {"matchLabels": {"os": "darwin", "arch": "arm64"}},
                 "uri": "https://example.invalid/b.tar.gz", "sha256": "b" * 64, "bin": "kubectl-vmmove"},
            ],
        },
    }


# --------------------------------------------------------------------------------------------------- the manifest


def test_committed_manifest_passes_krew_index_rules(committed):
    assert manifest_problems(committed, "krew/vmmove.yaml", expected_version=TAG) == []
    pairs = {(p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"])
             for p in committed["spec"]["platforms"]}
    assert pairs and pairs <= INTENDED_PLATFORMS
    for platform in committed["spec"]["platforms"]:
        name = os.path.basename(platform["uri"])
        assert name == f"kubectl-vmmove_{TAG}_{platform['selector']['matchLabels']['os']}_" \
                       f"{platform['selector']['matchLabels']['arch']}.tar.gz"
        assert platform["uri"].startswith(f"{release_script.DEFAULT_BASE_URL}/{TAG}/")


def test_committed_manifest_is_the_rendered_template(committed):
    # Someone who edits the template must re-render: the committed file is exactly what scripts/release writes.
    platforms = [(p["uri"], p["sha256"], p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"])
                 for p in committed["spec"]["platforms"]]
    with open(os.path.join(ROOT, "krew", "vmmove.yaml.in"), encoding="utf-8") as fh:
        rendered = release_script.render_manifest(fh.read(), TAG, platforms)
    with open(os.path.join(ROOT, "krew", "vmmove.yaml"), encoding="utf-8") as fh:
        assert fh.read() == rendered


def test_caveats_name_the_cluster_requirements_and_the_completion_helper(committed):
    caveats = committed["spec"]["caveats"]
    assert "KubeVirt" in caveats and "CDI" in caveats
    assert f"store/vmmove/{TAG}/kubectl_complete-vmmove" in caveats


def test_render_lists_every_archive_of_the_version_in_a_stable_order(tmp_path):
    for name in (f"kubectl-vmmove_{TAG}_linux_arm64.tar.gz", f"kubectl-vmmove_{TAG}_darwin_amd64.tar.gz",
                 f"kubectl-vmmove_{TAG}_linux_amd64.tar.gz", "kubectl-vmmove_v0.0.9_linux_amd64.tar.gz"):
        (tmp_path / name).write_bytes(name.encode())
    manifest = tmp_path / "vmmove.yaml"
    assert release_script.main(["--no-pack", "--out", str(tmp_path), "--manifest", str(manifest)]) == 0
    doc = yaml.safe_load(manifest.read_text())
    assert manifest_problems(doc, str(manifest), expected_version=TAG) == []
    got = [(p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"], p["sha256"])
           for p in doc["spec"]["platforms"]]
    expected = [(o, a, hashlib.sha256(f"kubectl-vmmove_{TAG}_{o}_{a}.tar.gz".encode()).hexdigest())
                for o, a in (("darwin", "amd64"), ("linux", "amd64"), ("linux", "arm64"))]
    assert got == expected


def _mutate(path, value):
    def apply(doc):
        *parents, last = path
        target = doc
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return doc
    return apply


_DELETE = object()
P0 = ("spec", "platforms", 0)

NEGATIVE = [
    ("apiVersion v1alpha1", _mutate(("apiVersion",), "krew.googlecontainertools.github.com/v1alpha1"),
     "apiVersion must be"),
    ("kind", _mutate(("kind",), "Plugins"), "kind must be Plugin"),
    ("unsafe name", _mutate(("metadata", "name"), "vm move"), "not a safe plugin name"),
    ("reserved name", _mutate(("metadata", "name"), "COM1"), "reserved Windows name"),
    ("name not the file", _mutate(("metadata", "name"), "vm-move"), "must equal the file name"),
    ("no short description", _mutate(("spec", "shortDescription"), ""), "shortDescription is required"),
    ("two-line short description", _mutate(("spec", "shortDescription"), "a\nb"), "must be one line"),
    ("no description", _mutate(("spec", "description"), _DELETE), "description is required"),
    ("misspelt field", _mutate(("spec", "homepgae"), "x"), "unknown field 'homepgae'"),
    ("version without v", _mutate(("spec", "version"), "0.1.0"), "must start with 'v'"),
    ("two-number version", _mutate(("spec", "version"), "v0.1"), "exactly three numbers"),
    ("leading zero", _mutate(("spec", "version"), "v01.2.3"), "leading zero"),
    ("bad suffix", _mutate(("spec", "version"), "v0.1.0_rc1"), "pre-release or build suffix"),
    ("version is not the tag", _mutate(("spec", "version"), "v9.9.9"), "is not the release tag"),
    ("no platforms", _mutate(("spec", "platforms"), []), "at least one platform"),
    ("no selector", _mutate(P0 + ("selector",), _DELETE), "selector is required"),
    ("empty selector", _mutate(P0 + ("selector",), {}), "selector is empty"),
    ("empty matchLabels", _mutate(P0 + ("selector",), {"matchLabels": {}}), "empty matchLabels"),
    ("empty matchExpressions", _mutate(P0 + ("selector",), {"matchExpressions": []}), "empty matchExpressions"),
    ("foreign selector key", _mutate(P0 + ("selector", "matchLabels", "distro"), "debian"), "'distro' is not allowed"),
    ("no uri", _mutate(P0 + ("uri",), _DELETE), "uri is required"),
    ("uppercase sha256", _mutate(P0 + ("sha256",), "A" * 64), "64 lowercase hex"),
    ("short sha256", _mutate(P0 + ("sha256",), "a" * 63), "64 lowercase hex"),
    ("no bin", _mutate(P0 + ("bin",), ""), "bin is required"),
    ("empty files", _mutate(P0 + ("files",), []), "files is empty"),
    ("file op without to", _mutate(P0 + ("files",), [{"from": "*"}]), "needs from and to"),
    ("unclean to", _mutate(P0 + ("files",), [{"from": "*", "to": "./bin"}]), "not a clean path"),
    ("unsupported platform", _mutate(P0 + ("selector", "matchLabels", "arch"), "riscv64"), "matches no supported"),
    ("overlap", _mutate(P0 + ("selector",), {"matchExpressions": [{"key": "os", "operator": "In",
                                                                   "values": ["linux", "darwin"]}]}),
     "is matched by platforms[0] and platforms[1]"),
    ("windows without .exe", _mutate(P0 + ("selector", "matchLabels", "os"), "windows"), "must end in .exe"),
]


@pytest.mark.parametrize("mutate,expected", [(m, e) for _, m, e in NEGATIVE], ids=[n for n, _, _ in NEGATIVE])
def test_each_rule_rejects_a_manifest_that_breaks_it(mutate, expected):
    assert manifest_problems(good_manifest(), "vmmove.yaml", expected_version="v0.1.0") == []
    problems = manifest_problems(mutate(copy.deepcopy(good_manifest())), "vmmove.yaml", expected_version="v0.1.0")
    assert any(expected in p for p in problems), problems


def test_manifest_file_must_be_yaml_named_after_the_plugin():
    assert any(".yaml" in p for p in manifest_problems(good_manifest(), "vmmove.yml"))


def test_expected_platform_set_is_enforced():
    problems = manifest_problems(good_manifest(), "vmmove.yaml", expected_platforms=[("linux", "amd64")])
    assert any("expected" in p for p in problems)


def test_krew_version_rules_accept_prerelease_and_build_suffixes():
    doc = good_manifest()
    for version in ("v1.2.3-rc.1", "v1.2.3+build.5", "v10.0.0"):
        doc["spec"]["version"] = version
        assert manifest_problems(doc, "vmmove.yaml") == []


def test_label_values_are_compared_as_strings_like_krew():
    doc = good_manifest()
    doc["spec"]["platforms"][0]["selector"]["matchLabels"]["arch"] = 386  # unquoted YAML integer
    doc["spec"]["platforms"][0]["selector"]["matchLabels"]["os"] = "linux"
    assert manifest_problems(doc, "vmmove.yaml") == []


# --------------------------------------------------------------------------------------------------- the archive


def _fake_build(root):
    build = root / "kubectl-vmmove"
    (build / "_internal" / "pkg").mkdir(parents=True)
    exe = build / "kubectl-vmmove"
    exe.write_text("#!/bin/sh\necho fake\n")
    exe.chmod(0o700)
    (build / "_internal" / "pkg" / "data.json").write_text("{}")
    (build / "_internal" / "libz.so").write_bytes(b"\x7fELF")
    return build


def _pack(build, dest, mtime=1700000000):
    release_script.write_archive(str(build), os.path.join(ROOT, "LICENSE"),
                                 os.path.join(ROOT, "plugin", "kubectl_complete-vmmove"), str(dest), mtime)
    return dest


def test_archive_bytes_depend_on_contents_only(tmp_path):
    build = _fake_build(tmp_path)
    first = _pack(build, tmp_path / "first.tar.gz").read_bytes()
    for path in build.rglob("*"):
        os.utime(path, (1, 1))  # other mtimes on disk, as after a rebuild
    (build / "_internal" / "libz.so").chmod(0o600)  # and another umask
    second = _pack(build, tmp_path / "second.tar.gz").read_bytes()
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert first[4:8] == b"\0\0\0\0"  # gzip header mtime


def test_archive_entries_are_sorted_owned_by_root_with_fixed_times_and_modes(tmp_path):
    archive = _pack(_fake_build(tmp_path), tmp_path / "a.tar.gz", mtime=1234567890)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert set(names) == {"LICENSE", "_internal", "_internal/libz.so", "_internal/pkg", "_internal/pkg/data.json",
                          "kubectl-vmmove", "kubectl_complete-vmmove"}
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 1234567890)}
    modes = {m.name: m.mode for m in members}
    assert modes["kubectl-vmmove"] == modes["kubectl_complete-vmmove"] == modes["_internal"] == 0o755
    assert modes["LICENSE"] == modes["_internal/pkg/data.json"] == 0o644


def test_release_refuses_what_krew_cannot_extract(tmp_path):
    build = _fake_build(tmp_path)
    os.symlink("libz.so", build / "_internal" / "libz.so.1")
    with pytest.raises(release_script.ReleaseError, match="symlink"):
        _pack(build, tmp_path / "a.tar.gz")
    os.remove(build / "_internal" / "libz.so.1")
    (build / "_internal" / "a..b").write_text("")
    with pytest.raises(release_script.ReleaseError, match=r"'\.\.'"):
        _pack(build, tmp_path / "a.tar.gz")


def test_release_refuses_a_build_without_the_executable(tmp_path):
    build = _fake_build(tmp_path)
    (build / "kubectl-vmmove").chmod(0o644)
    with pytest.raises(release_script.ReleaseError, match="scripts/build"):
        _pack(build, tmp_path / "a.tar.gz")


def _manifest_for(archive, bin_name="kubectl-vmmove", files=None):
    doc = good_manifest()
    platform = doc["spec"]["platforms"][0]
    platform["sha256"] = hashlib.sha256(archive.read_bytes()).hexdigest()
    platform["bin"] = bin_name
    if files is not None:
        platform["files"] = files
    return doc


def test_install_like_krew_places_bin_license_and_link(tmp_path):
    archive = _pack(_fake_build(tmp_path), tmp_path / "a.tar.gz")
    link = install_like_krew(_manifest_for(archive), str(archive), str(tmp_path / "krew"), "linux", "amd64")
    assert link == str(tmp_path / "krew" / "bin" / "kubectl-vmmove")
    store = tmp_path / "krew" / "store" / "vmmove" / "v0.1.0"
    assert os.path.realpath(link) == str(store / "kubectl-vmmove")
    assert (store / "_internal" / "pkg" / "data.json").is_file()
    assert installed_license(str(store)) == str(store / "LICENSE")


def _tar_with(tmp_path, entries):
    """entries: (TarInfo, bytes or None)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue()))
    return path


def _file(name, data=b"x", mode=0o755):
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def test_install_rejects_a_checksum_mismatch(tmp_path):
    archive = _pack(_fake_build(tmp_path), tmp_path / "a.tar.gz")
    doc = _manifest_for(archive)
    doc["spec"]["platforms"][0]["sha256"] = "0" * 64
    with pytest.raises(KrewInstallError, match="checksum"):
        install_like_krew(doc, str(archive), str(tmp_path / "krew"), "linux", "amd64")


def test_install_rejects_symlinks_and_suspicious_names(tmp_path):
    link = tarfile.TarInfo("kubectl-vmmove")
    link.type, link.linkname = tarfile.SYMTYPE, "elsewhere"
    with pytest.raises(KrewInstallError, match="unable to handle file type"):
        extract(str(_tar_with(tmp_path, [(link, None)])), str(tmp_path / "x"))
    with pytest.raises(KrewInstallError, match="suspicious path"):
        extract(str(_tar_with(tmp_path, [_file("bin/../../etc")])), str(tmp_path / "y"))


def test_install_rejects_a_non_archive(tmp_path):
    path = tmp_path / "kubectl-vmmove"
    path.write_bytes(b"\x7fELF....")
    with pytest.raises(KrewInstallError, match="not a gzip or zip"):
        extract(str(path), str(tmp_path / "x"))


def test_install_requires_a_license_an_executable_bin_and_matching_file_operations(tmp_path):
    no_license = _tar_with(tmp_path, [_file("kubectl-vmmove")])
    with pytest.raises(KrewInstallError, match="no license"):
        install_like_krew(_manifest_for(no_license), str(no_license), str(tmp_path / "k1"), "linux", "amd64")
    not_exec = _tar_with(tmp_path, [_file("kubectl-vmmove", mode=0o644), _file("LICENSE", mode=0o644)])
    with pytest.raises(KrewInstallError, match="not executable"):
        install_like_krew(_manifest_for(not_exec), str(not_exec), str(tmp_path / "k2"), "linux", "amd64")
    ok = _tar_with(tmp_path, [_file("kubectl-vmmove"), _file("LICENSE", mode=0o644)])
    with pytest.raises(KrewInstallError, match="does not exist"):
        install_like_krew(_manifest_for(ok, bin_name="vmmove"), str(ok), str(tmp_path / "k3"), "linux", "amd64")
    with pytest.raises(KrewInstallError, match="matches nothing"):
        install_like_krew(_manifest_for(ok, files=[{"from": "bin/*", "to": "."}]), str(ok), str(tmp_path / "k4"),
                          "linux", "amd64")
    with pytest.raises(KrewInstallError, match="outside"):
        install_like_krew(_manifest_for(ok, bin_name="../kubectl-vmmove"), str(ok), str(tmp_path / "k5"),
                          "linux", "amd64")
    with pytest.raises(KrewInstallError, match="does not offer installation"):
        install_like_krew(_manifest_for(ok), str(ok), str(tmp_path / "k6"), "windows", "amd64")


def test_file_operations_rename_like_krew(tmp_path):
    archive = _tar_with(tmp_path, [_file("vmmove-linux/kubectl-vmmove-linux-amd64"), _file("vmmove-linux/LICENSE")])
    files = [{"from": "/vmmove-linux/kubectl-vmmove-linux-amd64", "to": "kubectl-vmmove"},
             {"from": "vmmove-linux/LICENSE", "to": "."}]
    link = install_like_krew(_manifest_for(archive, files=files), str(archive), str(tmp_path / "k"), "linux",
                             "amd64")
    store = tmp_path / "k" / "store" / "vmmove" / "v0.1.0"
    assert os.path.realpath(link) == str(store / "kubectl-vmmove")
    assert sorted(os.listdir(store)) == ["LICENSE", "kubectl-vmmove"]


# --------------------------------------------------------------------------------------------------- the real one


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return frozen_release.release(tmp_path_factory)


def test_real_release_manifest_and_archive_pass_every_check(real, tmp_path):
    with open(real.manifest, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    assert manifest_problems(doc, real.manifest, expected_version=TAG) == []
    os_name, arch = release_script.host_platform()
    assert os.path.basename(real.archive) == f"kubectl-vmmove_{TAG}_{os_name}_{arch}.tar.gz"
    with tarfile.open(real.archive) as tar:
        members = tar.getmembers()
    assert all(m.isfile() or m.isdir() for m in members)
    assert not any(m.name.startswith("kubectl-vmmove-") for m in members)  # kubectl would dispatch verbs to it
    link = install_like_krew(doc, real.archive, str(tmp_path / "krew"), os_name, arch)
    assert os.access(link, os.X_OK)
    assert installed_license(os.path.dirname(os.path.realpath(link)))
