"""The converter's YAML writer (openstack/emit.py) writes the bytes PyYAML writes (printers.dump_yaml), for the
converter's own manifests and for documents full of scalars a YAML reader could take for something else."""

import random

from kubectl_vmmove.openstack.emit import Emitter
from kubectl_vmmove.printers import dump_yaml

# Strings that YAML 1.1 readers resolve as other types, indicators, quotes, line breaks, non-ASCII, long text.
ATOMS = ["a", "vm-0", "10.0.0.1", "fa:16:3e:00:00:01", "2025-01-01", "2025-01-01T00:00:00Z", "yes", "no", "on", "Y",
         "y", "n", "off", "True", "null", "~", "Null", "1", "0", "00", "09", "1.5", "0o17", "1e3", "1:20", "0x1f", "+1",
         "-1", "1_000", "1,000", "1.0.0", "v1.2", ".inf", "=", "<<", "", " lead", "trail ", "a b", "a  b", "a #b", "a#b",
         "a: b", "a:b", "a:", "-a", "- a", "a - b", "@x", "!x", "&x", "*x", "?x", "? x", "[x", "{x", "x]", "x,y", "%x",
         "`x", "|x", ">x", "'q'", '"d"', "...", "---", "...x", "---x", "/path/x", "_x", "k=v", "a/b@c", "tab\tx",
         "multi\nline", "multi\nline\n", "#cloud-config\npackages: [nginx]\n", "a\rb", "a\x85b", "a\u2028b", "x\x00y",
         "ünï", "é:x", "a\u00a0b", "\ufeffx", "€", "x" * 50, "k" * 200, "a b " * 300, "a" * 1500,
         "ssh-ed25519 AAAAC3Nza ops@example", "I2Nsb3VkLWNvbmZpZwo="]
SCALARS = ATOMS + [None, True, False, 0, 1, -5, 10 ** 20, 1.5]


def document(rnd: random.Random, depth: int = 0):
    roll = rnd.random()
    if depth > 4 or (depth and roll < 0.5):
        return rnd.choice(SCALARS)
    if depth == 0 or roll < 0.75:
        return {rnd.choice(ATOMS): document(rnd, depth + 1) for _ in range(rnd.randint(depth == 0, 4))}
    return [document(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]


def test_generated_documents_are_written_as_pyyaml_writes_them():
    rnd = random.Random(13)
    emitter = Emitter()
    for _ in range(5000):
        doc = document(rnd)
        assert emitter.document(doc) == dump_yaml(doc), repr(doc)


def test_a_virtual_machine_is_written_as_pyyaml_writes_it():
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
          "metadata": {"name": "web-1", "namespace": "default-team", "labels": {"tag.openstack.vmmove.io/x": "true"},
                       "annotations": {"vmmove.io/openstack-metadata": '{"owner": "team-0"}',
                                       "vmmove.io/openstack-created": "2025-01-01T00:00:00Z"}},
          "spec": {"runStrategy": "Always", "dataVolumeTemplates": [
              {"metadata": {"name": "web-1-root"}, "spec": {"storage": {"resources": {"requests": {"storage": "20Gi"}}},
                                                           "source": {"blank": {}}}}],
                   "template": {"spec": {"domain": {"cpu": {"cores": 2, "sockets": 1, "threads": 1},
                                                    "devices": {"disks": [{"bootOrder": 1, "disk": {"bus": "virtio"},
                                                                           "name": "root"}],
                                                                "interfaces": [{"macAddress": "fa:16:3e:00:00:01",
                                                                                "masquerade": {}, "name": "net"}]},
                                                    "firmware": {"uuid": "0b2f6a34-0000-4000-8000-000000000001"}},
                                         "networks": [{"name": "net", "pod": {}}],
                                         "volumes": [{"cloudInitNoCloud": {"userData": "#cloud-config\n"},
                                                      "name": "cloudinit"}]}}}}
    assert Emitter().document(vm) == dump_yaml(vm)
