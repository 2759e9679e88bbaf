"""krew-index's manifest checks and krew's install steps, in Python (no krew binary exists on these machines).

The rules follow shared/reference/plugin-packaging.md 1.1-1.5 and its checklist in 1.8: the structural checks of
krew's `validate-krew-manifest` (ValidatePlugin, selector coverage and overlap, the licence file CI requires), and
the install path of `kubectl krew install --manifest=... --archive=...`: sha256 of the bytes, archive type from the
magic bytes, entry names and types, file operations, the `bin` link. Each check returns or raises a message naming
the rule, so a test can show which rule rejected a bad manifest.
"""

import fnmatch
import gzip
import hashlib
import os
import posixpath
import re
import shutil
import tarfile
import zipfile
from typing import Dict, List, Optional, Sequence

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
KIND = "Plugin"
NAME_RE = re.compile(r"^[\w-]+$")
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
SHA256_RE = re.compile(r"^[a-f0-9]{64}$")
# apimachinery pkg/util/version: the numbers, then an optional -prerelease and +build.
VERSION_RE = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)*$")
VERSION_EXTRA_RE = re.compile(r"^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$")
# cmd/validate-krew-manifest allPlatforms
ALL_PLATFORMS = [("windows", "386"), ("windows", "amd64"), ("windows", "arm64"), ("linux", "386"),
                 ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
                 ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64")]
LICENSE_NAMES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying",
                 "copying.txt"}
SPEC_KEYS = {"version", "homepage", "shortDescription", "description", "caveats", "platforms"}
PLATFORM_KEYS = {"selector", "uri", "sha256", "bin", "files"}


class KrewInstallError(Exception):
    pass


# --------------------------------------------------------------------------------------------------- the manifest


def parse_semantic(version: str) -> Optional[str]:
    """None when krew accepts the version, else why not (krew semver.Parse over apimachinery ParseSemantic)."""
    if not isinstance(version, str) or not version.startswith("v"):
        return f"version {version!r} must start with 'v'"
    match = VERSION_RE.match(version)
    if not match:
        return f"version {version!r} is not a semantic version"
    parts = match.group(1).split(".")
    if len(parts) != 3:
        return f"version {version!r} must have exactly three numbers"
    if any(len(p) > 1 and p.startswith("0") for p in parts):
        return f"version {version!r} has a number with a leading zero"
    if not VERSION_EXTRA_RE.match(version[match.end(1):]):
        return f"version {version!r} has an invalid pre-release or build suffix"
    return None


def _selector_problems(selector) -> List[str]:
    if not isinstance(selector, dict):
        return ["selector is required"]
    labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    problems = []
    if labels is None and expressions is None:
        problems.append("selector is empty: it needs matchLabels or matchExpressions")
    if labels is not None and not labels:
        problems.append("selector has an empty matchLabels")
    if expressions is not None and not expressions:
        problems.append("selector has an empty matchExpressions")
    keys = set((labels or {}).keys()) | {e.get("key") for e in expressions or [] if isinstance(e, dict)}
    for key in sorted(k for k in keys if k not in ("os", "arch")):
        problems.append(f"selector key {key!r} is not allowed: only os and arch")
    for expr in expressions or []:
        if not isinstance(expr, dict) or expr.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            problems.append(f"selector expression {expr!r} has an unknown operator")
    return problems


def selector_matches(selector: dict, os_name: str, arch: str) -> bool:
    """metav1.LabelSelectorAsSelector against {os, arch}; label values are strings after krew's YAML-to-JSON."""
    labels = {"os": os_name, "arch": arch}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _platform_problems(index: int, platform) -> List[str]:
    where = f"platforms[{index}]"
    if not isinstance(platform, dict):
        return [f"{where} is not a mapping"]
    problems = [f"{where}: {p}" for p in _selector_problems(platform.get("selector"))]
    for key in sorted(set(platform) - PLATFORM_KEYS):
        problems.append(f"{where}: unknown field {key!r}")
    if not platform.get("uri"):
        problems.append(f"{where}: uri is required")
    if not SHA256_RE.match(str(platform.get("sha256") or "")):
        problems.append(f"{where}: sha256 must be 64 lowercase hex characters")
    if not platform.get("bin"):
        problems.append(f"{where}: bin is required")
    files = platform.get("files")
    if files is not None:
        if not files:
            problems.append(f"{where}: files is empty (omit it for the default)")
        for op in files or []:
            if not isinstance(op, dict) or not op.get("from") or not op.get("to"):
                problems.append(f"{where}: every files entry needs from and to")
            elif posixpath.normpath(op["to"]) != op["to"]:
                problems.append(f"{where}: files to {op['to']!r} is not a clean path")
    return problems


def manifest_problems(doc, file_name: str, expected_version: Optional[str] = None,
                      expected_platforms: Optional[Sequence] = None) -> List[str]:
    """Every reason krew-index CI (or this project's stricter rules) would reject the manifest; [] when valid."""
    if not isinstance(doc, dict):
        return ["the manifest is not a mapping"]
    problems = []
    stem, ext = os.path.splitext(os.path.basename(file_name))
    if ext != ".yaml":
        problems.append(f"file name {file_name!r} must end in .yaml")
    if doc.get("apiVersion") != API_VERSION:
        problems.append(f"apiVersion must be {API_VERSION}")
    if doc.get("kind") != KIND:
        problems.append(f"kind must be {KIND}")
    name = (doc.get("metadata") or {}).get("name") or ""
    if not NAME_RE.match(name):
        problems.append(f"metadata.name {name!r} is not a safe plugin name")
    if name.lower() in WINDOWS_RESERVED:
        problems.append(f"metadata.name {name!r} is a reserved Windows name")
    if name != stem:
        problems.append(f"metadata.name {name!r} must equal the file name {stem!r}")
    spec = doc.get("spec") or {}
    for key in sorted(set(spec) - SPEC_KEYS):
        problems.append(f"spec: unknown field {key!r}")
    short = spec.get("shortDescription")
    if not short:
        problems.append("shortDescription is required")
    elif "\n" in short or "\r" in short:
        problems.append("shortDescription must be one line")
    if not spec.get("description"):
        problems.append("description is required")
    why = parse_semantic(spec.get("version"))
    if why:
        problems.append(why)
    elif expected_version is not None and spec.get("version") != expected_version:
        problems.append(f"version {spec.get('version')} is not the release tag {expected_version}")
    platforms = spec.get("platforms")
    if not platforms:
        problems.append("platforms must list at least one platform")
        return problems
    for i, platform in enumerate(platforms):
        problems.extend(_platform_problems(i, platform))
    if any(p.startswith("platforms[") for p in problems):
        return problems
    matched: Dict[tuple, int] = {}
    for i, platform in enumerate(platforms):
        hits = [pair for pair in ALL_PLATFORMS if selector_matches(platform["selector"], *pair)]
        if not hits:
            problems.append(f"platforms[{i}] matches no supported os/arch")
        for pair in hits:
            if pair in matched:
                problems.append(f"{pair[0]}/{pair[1]} is matched by platforms[{matched[pair]}] and platforms[{i}]")
            matched.setdefault(pair, i)
        if any(pair[0] == "windows" for pair in hits) and not str(platform["bin"]).endswith(".exe"):
            problems.append(f"platforms[{i}]: a Windows bin must end in .exe")
    if expected_platforms is not None and sorted(matched) != sorted(tuple(p) for p in expected_platforms):
        problems.append(f"platforms cover {sorted(matched)}, expected {sorted(tuple(p) for p in expected_platforms)}")
    return problems


def platform_for(doc: dict, os_name: str, arch: str) -> dict:
    """The first platform whose selector matches, as krew's matchPlatform picks it."""
    for platform in doc["spec"]["platforms"]:
        if selector_matches(platform["selector"], os_name, arch):
            return platform
    raise KrewInstallError(f"plugin does not offer installation for this platform ({os_name}/{arch})")


# --------------------------------------------------------------------------------------------------- the install


def _archive_type(path: str) -> str:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "tar.gz"
    if magic == b"PK\x03\x04":
        return "zip"
    raise KrewInstallError(f"{os.path.basename(path)}: not a gzip or zip archive (magic {magic!r})")


def _suspicious(name: str) -> bool:
    return ".." in name or name.startswith("/") or name.startswith("\\")


def extract(archive: str, dest: str) -> None:
    """krew's extractors: only folders and regular files, modes from the archive, no suspicious names."""
    if _archive_type(archive) == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if _suspicious(info.filename):
                    raise KrewInstallError(f"suspicious path in archive: {info.filename}")
            zf.extractall(dest)
        return
    with gzip.open(archive, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
        for member in tar:
            if member.name == "pax_global_header":
                continue
            if _suspicious(member.name):
                raise KrewInstallError(f"suspicious path in archive: {member.name}")
            target = os.path.join(dest, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                os.chmod(target, member.mode | 0o700)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out)
                os.chmod(target, member.mode)
            else:
                raise KrewInstallError(f"unable to handle file type {member.type!r} of {member.name}")


def _apply_file_operations(platform: dict, extracted: str, install_dir: str) -> None:
    operations = platform.get("files") or [{"from": "*", "to": "."}]
    os.makedirs(install_dir, exist_ok=True)
    for op in operations:
        to = op["to"]
        if posixpath.normpath(to) != to:
            raise KrewInstallError(f"the provided path is not clean: {to}")
        source = os.path.join(extracted, op["from"].lstrip("/"))
        if os.path.isfile(source):
            matches = [source]
        else:
            # Go's filepath.Glob: "*" also matches names starting with a dot.
            folder, pattern = os.path.split(source)
            matches = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if fnmatch.fnmatchcase(n, pattern)] \
                if os.path.isdir(folder) else []
        if not matches:
            raise KrewInstallError(f"files from {op['from']!r} matches nothing in the archive")
        target = os.path.join(install_dir, to)
        for match in matches:
            if len(matches) == 1 and os.path.isfile(match) and to != "." and not os.path.isdir(target):
                dest = target
            else:
                dest = os.path.join(target, os.path.basename(match))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.move(match, dest)


def install_like_krew(manifest: dict, archive: str, krew_root: str, os_name: str, arch: str) -> str:
    """Install as `kubectl krew install --manifest=M --archive=A` does; return the link krew puts on PATH."""
    platform = platform_for(manifest, os_name, arch)
    with open(archive, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    if digest != platform["sha256"]:
        raise KrewInstallError(f"checksum does not match: want {platform['sha256']}, got {digest}")
    name, version = manifest["metadata"]["name"], manifest["spec"]["version"]
    staging = os.path.join(krew_root, "tmp", name)
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    extract(archive, staging)
    install_dir = os.path.join(krew_root, "store", name, version)
    _apply_file_operations(platform, staging, install_dir)
    shutil.rmtree(staging)
    bin_path = os.path.normpath(os.path.join(install_dir, platform["bin"]))
    if not bin_path.startswith(install_dir + os.sep):
        raise KrewInstallError(f"bin {platform['bin']!r} points outside the install folder")
    if not os.path.isfile(bin_path):
        raise KrewInstallError(f"bin {platform['bin']!r} does not exist after installing")
    if not os.stat(bin_path).st_mode & 0o111:
        raise KrewInstallError(f"bin {platform['bin']!r} is not executable")
    if not installed_license(install_dir):
        raise KrewInstallError("no license file was installed (krew-index CI requires one)")
    link_dir = os.path.join(krew_root, "bin")
    os.makedirs(link_dir, exist_ok=True)
    link = os.path.join(link_dir, "kubectl-" + name.replace("-", "_") + (".exe" if os_name == "windows" else ""))
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(bin_path, link)
    return link


def installed_license(install_dir: str) -> Optional[str]:
    for top, _dirs, files in os.walk(install_dir):
        for name in files:
            if name.lower() in LICENSE_NAMES:
                return os.path.join(top, name)
    return None
