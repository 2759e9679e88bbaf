"""Key pairs and user data -> Secrets, the cloud-init volume and `accessCredentials`.

User data goes into a Secret (key `userdata`, plus `networkdata` with --static-ips) referenced by the cloud-init
volume's `secretRef`, never into a ConfigMap or inline: it often carries passwords and tokens. A key pair becomes one
Secret per namespace (key `ssh-publickey`), shared by the VMs that used it, and is injected through
`accessCredentials` with the propagation method matching the cloud-init volume (configDrive or noCloud), which
KubeVirt requires to exist. A config drive stays a config drive: cloud-init and cloudbase-init read it the same way
as in OpenStack.

Nothing here puts a secret value in the report; with `--omit-secret-values` the Secrets are written without data
and an annotation says what to fill in.
"""

import base64
from typing import List, Optional, Tuple

from . import names

FILL_IN = "vmmove.io/fill-in"


def secret(name: str, ns: str, data: dict, omit_values: bool, what: str, labels: dict) -> dict:
    meta = {"name": name, "namespace": ns, "labels": dict(labels)}
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque"}
    if omit_values:
        meta["annotations"] = {FILL_IN: f"{', '.join(sorted(data))}: {what}"}
    else:
        obj["data"] = data
    return obj


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def plan_cloud_init(ctx, server, vm: str, ns: str, network_data: Optional[str], target: str, labels: dict,
                    disk_bus: str = "virtio") -> Tuple[Optional[dict], Optional[dict], List[dict], List[dict]]:
    """(disk, volume, accessCredentials, secrets) for one VM."""
    report, options = ctx.report, ctx.options
    source = "cloudInitConfigDrive" if server.config_drive else "cloudInitNoCloud"
    secrets: List[dict] = []
    access: List[dict] = []
    ci: dict = {}
    vol_path = f"{target} spec.template.spec.volumes[cloudinit].{source}"
    data = {}
    if server.user_data_b64:
        # Nova returns user data base64-encoded already: it goes into the Secret as is, never decoded here.
        data["userdata"] = server.user_data_b64
        report.mapped(server, "OS-EXT-SRV-ATTR:user_data", f"Secret {ns}/{vm}-cloudinit key userdata",
                      f"referenced by {source}.secretRef (content not shown)")
    elif "OS-EXT-SRV-ATTR:user_data" in server.unknown or "OS-EXT-SRV-ATTR:user_data" not in server.raw:
        report.unknown(server, "OS-EXT-SRV-ATTR:user_data", "user data is shown only to admins at compute API 2.3 "
                                                            "or later ('openstack --os-compute-api-version 2.3 "
                                                            f"server show {server.id} -f json' as an admin tells); "
                                                            "none written")
    if network_data is not None:
        data["networkdata"] = _b64(network_data)
    if data:
        name = names.dns_label(f"{vm}-cloudinit", "cloudinit", 253)
        secrets.append(secret(name, ns, data, options.omit_secret_values,
                              f"user data / network data of OpenStack server {server.name} ({server.id})", labels))
        if "userdata" in data:
            ci["secretRef"] = {"name": name}
        else:
            ci["userData"] = "#cloud-config\n"
        if "networkdata" in data:
            ci["networkDataSecretRef"] = {"name": name}
    if server.key_name:
        _inject_key(ctx, server, ns, target, access, ci)
    if server.config_drive:
        report.mapped(server, "config_drive", vol_path, "config drive kept")
    elif "config_drive" in server.raw:
        report.mapped(server, "config_drive", vol_path if ci else "", "NoCloud data source" if ci else "no config drive")
    if not ci and server.config_drive:
        ci["userData"] = "#cloud-config\n"
    if not ci:
        return None, None, access, secrets
    # The guest must read the drive before it has drivers: same bus as its other disks (sata for Windows images).
    disk = {"name": "cloudinit", "disk": {"bus": disk_bus}}
    volume = {"name": "cloudinit", source: ci}
    return disk, volume, access, secrets



def _inject_key(ctx, server, ns: str, target: str, access: List[dict], ci: dict) -> None:
    """The server's key pair as accessCredentials from the key pair's Secret (a cloud-init volume is needed
    for it), or why there is none."""
    report = ctx.report
    kp = ctx.estate.keypairs.get(server.key_name)
    if kp is not None and not kp.public_key:
        report.unknown(server, "key_name", f"the public key of key pair {server.key_name!r} is hidden by the "
                                           "input ('openstack keypair list' and 'keypair show' without "
                                           "--public-key do not print it): save 'openstack keypair show "
                                           f"--public-key {server.key_name} -f json' as {server.key_name}.json; "
                                           "no key injected")
    elif kp is None:
        report.dropped(server, "key_name", f"key pair {server.key_name!r} is not in the input (key pairs belong "
                                           "to the user who exported); add it or inject a key by hand")
    else:
        kp_secret = ctx.keypair_secret(kp, ns)
        method = "configDrive" if server.config_drive else "noCloud"
        access.append({"sshPublicKey": {"propagationMethod": {method: {}},
                                        "source": {"secret": {"secretName": kp_secret}}}})
        report.mapped(server, "key_name", f"{target} spec.template.spec.accessCredentials",
                      f"Secret {ns}/{kp_secret} via {method}")
        if not ci:
            ci["userData"] = "#cloud-config\n"  # accessCredentials need a cloud-init volume to ride on


def keypair_secret_object(kp, name: str, ns: str, options, labels: dict) -> dict:
    obj = secret(name, ns, {"ssh-publickey": _b64(kp.public_key + "\n")}, options.omit_secret_values,
                 f"public key of OpenStack key pair {kp.name}", labels)
    obj["metadata"].setdefault("annotations", {})["vmmove.io/openstack-keypair"] = kp.name
    return obj
