"""NetworkPolicies around the moving VMs: which select a VM, which may be copied, and whether the target's give a
VM the same ingress and egress. Pure functions, no I/O.

A NetworkPolicy belongs to its namespace, not to a VM: `podSelector: {}` selects every pod there, today's and
tomorrow's, and a selector also matching pods that stay keeps protecting them. Such a policy is never copied with a
VM (a `default-deny-ingress` copied into the target would isolate every pod already there) and never deleted by
cleanup. Semantics (Kubernetes NetworkPolicy API): a policy applies to the pods its podSelector matches; it
isolates them for ingress when policyTypes holds "Ingress" (the default when policyTypes is empty), for egress when
it holds "Egress" (the default when the policy has egress rules); an isolated pod admits exactly the union of the
rules of the policies selecting it.
"""

import json
from typing import Dict, Iterable, List, Set

from .. import label_selectors as selectors

DIRECTIONS = (("Ingress", "ingress"), ("Egress", "egress"))
LAUNCHER = ("kubevirt.io", "virt-launcher")
VM_NAME_LABEL = "vm.kubevirt.io/name"


def selector_of(policy: dict) -> dict:
    return (policy.get("spec") or {}).get("podSelector") or {}


def namespace_wide(policy: dict) -> bool:
    """An empty podSelector selects every pod of the namespace, now and later."""
    sel = selector_of(policy)
    return not sel.get("matchLabels") and not sel.get("matchExpressions")


def selecting(policies: Iterable[dict], labels: Dict[str, str]) -> List[str]:
    """The names of the policies whose podSelector matches `labels`, sorted."""
    return sorted(p["metadata"]["name"] for p in policies
                  if selectors.matches_label_selector(selector_of(p), labels))


def policy_types(policy: dict) -> List[str]:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _rules(policies: Iterable[dict], direction: str, key: str) -> tuple:
    """(isolated, the rules that admit traffic, canonical and sorted) for one direction."""
    applying = [p for p in policies if direction in policy_types(p)]
    rules = sorted({json.dumps(r, sort_keys=True) for p in applying for r in (p.get("spec") or {}).get(key) or ()})
    return bool(applying), rules


def same_traffic(source: List[dict], target: List[dict], direction: str) -> bool:
    """Whether the policies selecting a VM in the source and those selecting it in the target isolate it the same
    way in `direction` and admit the same rules (peers compared as written: a podSelector peer means pods of the
    policy's own namespace in both)."""
    key = dict(DIRECTIONS)[direction]
    return _rules(source, direction, key) == _rules(target, direction, key)


def view(source: List[dict], target: List[dict], labels: Dict[str, str]) -> dict:
    """The plan's per-VM entry: the names of the source and target policies selecting `labels`, and for each
    direction "same" or "differs"."""
    src = [p for p in source if selectors.matches_label_selector(selector_of(p), labels)]
    dst = [p for p in target if selectors.matches_label_selector(selector_of(p), labels)]
    out: Dict[str, object] = {"source": sorted(p["metadata"]["name"] for p in src),
                              "target": sorted(p["metadata"]["name"] for p in dst)}
    for direction, key in DIRECTIONS:
        out[key] = "same" if same_traffic(src, dst, direction) else "differs"
    return out


def pod_stays(pod: dict, moving: Set[str]) -> bool:
    """Whether a pod stays in the source: anything but the virt-launcher pod of a moving VM."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get(LAUNCHER[0]) != LAUNCHER[1] or labels.get(VM_NAME_LABEL) not in moving


def staying_selected(policy: dict, pods: Iterable[dict], moving: Set[str]) -> List[str]:
    """The pods that stay and that `policy` selects (what keeps it in the source), sorted."""
    sel = selector_of(policy)
    return sorted(p["metadata"]["name"] for p in pods if pod_stays(p, moving)
                  and selectors.matches_label_selector(sel, (p.get("metadata") or {}).get("labels") or {}))


def copyable(policy: dict, staying_vms: List[str], pods: Iterable[dict], moving: Set[str]) -> bool:
    """A policy may move with the VMs when it selects moving VMs only: not namespace-wide, no staying VM, no
    other pod."""
    return not namespace_wide(policy) and not staying_vms and not staying_selected(policy, pods, moving)
