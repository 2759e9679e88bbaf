"""Preflight findings: everything that would make `run` fail, lose something, or surprise the user.

Each rule is a pure function of the inventory, the graph and the plan, returning findings
`{severity: error|warning|info, code, message, remedy, subject}`. A plan with errors is still printed; `run`
refuses it. Facts behind each rule: kubevirt-move-mechanics.md (section given per rule).

The rules live by concern: target (namespace, names, access, quota), storage (classes, clone methods,
transfer), network (NADs, MACs, Services), vm (state, run strategy, devices, versions), dependencies (references,
sharing). RULES below is the registry and its order is the order of the findings of one severity.
"""

from typing import Dict, List

from . import live
from .base import SEVERITIES, SEVERITY_ORDER, Context, finding
from .dependencies import references, sharing
from .network import macs, network_policies, networks, services
from .storage import storage, transfer
from .target import access, name_conflicts, quota, target_namespace
from .vm import activity, devices, dry_run, run_strategies, versions, vm_state

__all__ = ["RULES", "SOURCE_RULES", "SEVERITIES", "Context", "attribute", "finding", "run"]

RULES = (target_namespace, name_conflicts, access, quota, storage, transfer, networks, macs, dry_run, vm_state,
         activity, run_strategies, devices, references, sharing, services, network_policies,
         versions) + live.RULES

# What `assess` can judge from the source namespace alone.
SOURCE_RULES = (storage, vm_state, activity, devices, references, sharing, versions)

def attribute(graph, findings) -> List[dict]:
    """Name the moving VMs each finding concerns (`vms`), from its subject: the VM, one of its disks or
    dependencies. Findings about the move as a whole name none and concern every VM."""
    owners: Dict[tuple, List[str]] = {}
    for name, node in graph.nodes.items():
        owners.setdefault(("VirtualMachine", name), []).append(name)
        for disk in node.disks:
            for kind in ("PersistentVolumeClaim", "DataVolume"):
                owners.setdefault((kind, disk.claim), []).append(name)
        for kind, names in node.deps.items():
            for dep in names:
                owners.setdefault((kind, dep), []).append(name)
        for kind, ref, _where in node.missing:
            owners.setdefault((kind, ref), []).append(name)
        for _ns, nad in node.external_nads:
            owners.setdefault(("NetworkAttachmentDefinition", nad), []).append(name)
    for f in findings:
        subject = f.get("subject") or {}
        vms = owners.get((subject.get("kind"), subject.get("name")))
        if vms:
            f["vms"] = sorted(set(vms))
    return findings

def run(inv, graph, plan) -> List[dict]:
    """Every finding, errors first; also stored in plan['status']['findings'] with counts in the summary."""
    ctx = Context(inv, graph, plan)
    found: List[dict] = []
    for rule in RULES:
        found += rule(ctx)
    attribute(graph, found)
    found.sort(key=lambda f: SEVERITY_ORDER[f["severity"]])
    plan["status"]["findings"] = found
    summary = plan["status"]["summary"]
    for sev in SEVERITIES:
        summary[{"error": "errors", "warning": "warnings", "info": "infos"}[sev]] = sum(
            1 for f in found if f["severity"] == sev)
    return found
