"""`--strategy auto`: one plan whose VMs each use the best strategy they can.

Per VM: live when it runs and no error of the live plan concerns it (or the move as a whole); otherwise transfer
when the transfer plan has no error for it (the user may rebind volumes: cluster-admin); otherwise clone. The
choice and its reason are in each VM entry (`strategy`, `strategyReason`) and as an info finding `StrategyChosen`.

Pure functions over plans already made with the same move id; the pipeline makes them.
"""

import copy
from typing import Dict, List, Optional, Tuple

from . import estimates

ORDER = ("live", "transfer", "clone")


def blockers(doc: dict) -> Dict[Optional[str], str]:
    """The first error of a plan per VM name; key None for errors about the move as a whole."""
    out: Dict[Optional[str], str] = {}
    for f in (doc.get("status") or {}).get("findings") or ():
        if f.get("severity") != "error":
            continue
        for vm in f.get("vms") or [None]:
            out.setdefault(vm, f"{f['code']}: {f['message']}")
    return out


def choose(names: List[str], docs: Dict[str, dict], running: Dict[str, bool]) -> Dict[str, Tuple[str, str]]:
    """{vm: (strategy, why)} from the plans made for each strategy in `docs` (live, transfer, clone)."""
    found = {s: blockers(d) for s, d in docs.items()}
    out = {}
    for name in names:
        why_not = []
        for strategy in ORDER:
            if strategy not in docs:
                continue
            if strategy == "live" and not running.get(name):
                why_not.append("live: not running")
                continue
            blocked = found[strategy].get(None) or found[strategy].get(name)
            if blocked is None or strategy == "clone":
                reason = {"live": "running, and every live check passes",
                          "transfer": "you may rebind its volumes, no copy",
                          "clone": "copies its disks"}[strategy]
                if why_not:
                    reason += f" (not {'; not '.join(why_not)})"
                out[name] = (strategy, reason)
                break
            why_not.append(f"{strategy}: {blocked}")
    return out


def _union(lists: List[List[dict]]) -> List[dict]:
    seen, out = set(), []
    for steps in lists:
        for step in steps:
            key = (step["action"], step["kind"], step["name"], step.get("namespace"))
            if key not in seen:
                seen.add(key)
                out.append(step)
    return out


def merge(docs: Dict[str, dict], chosen: Dict[str, Tuple[str, str]]) -> dict:
    """One plan: each VM's entry and findings from the plan of its strategy, shared steps and move-wide findings
    from every strategy used."""
    used = [s for s in ORDER if s in docs and any(c[0] == s for c in chosen.values())]
    base = docs[used[0]]
    out = copy.deepcopy(base)
    spec = out["spec"]
    spec["strategy"] = "auto"
    entries = []
    for vm in base["spec"]["vms"]:
        strategy, why = chosen[vm["name"]]
        entry = copy.deepcopy(next(v for v in docs[strategy]["spec"]["vms"] if v["name"] == vm["name"]))
        entry["strategy"], entry["strategyReason"] = strategy, why
        entries.append(entry)
    spec["vms"] = entries
    spec["prepare"] = _union([docs[s]["spec"]["prepare"] for s in used])
    spec["cleanup"] = _union([docs[s]["spec"]["cleanup"] for s in used])
    if "live" in used:
        spec["live"] = docs["live"]["spec"].get("live") or {}
    else:
        spec.pop("live", None)
    out["status"]["findings"] = _findings(docs, used, chosen)
    _summarise(out)
    return out


def _findings(docs: Dict[str, dict], used: List[str], chosen: Dict[str, Tuple[str, str]]) -> List[dict]:
    found, seen = [], set()
    for strategy in used:
        mine = {n for n, (s, _why) in chosen.items() if s == strategy}
        for f in (docs[strategy].get("status") or {}).get("findings") or ():
            vms = f.get("vms")
            if vms and not set(vms) & mine:
                continue
            key = (f["code"], f["message"])
            if key not in seen:
                seen.add(key)
                found.append(f)
    for name, (strategy, why) in chosen.items():
        found.append({"severity": "info", "code": "StrategyChosen", "message": f'VM "{name}" moves by {strategy}: '
                      f"{why}", "subject": {"kind": "VirtualMachine", "name": name}, "vms": [name]})
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda f: order[f["severity"]])


def _summarise(doc: dict) -> None:
    vms = doc["spec"]["vms"]
    findings = doc["status"]["findings"]
    downtimes = [v["estimate"]["downtimeSeconds"] for v in vms]
    summary = doc["status"]["summary"]
    summary.update(vms=len(vms), disks=sum(len(v["disks"]) for v in vms),
                   bytes=sum(d["size"] for v in vms for d in v["disks"]),
                   estimatedDowntimeSeconds=estimates.total_seconds(downtimes, max),
                   estimatedSerialSeconds=estimates.total_seconds(downtimes))
    for sev, key in (("error", "errors"), ("warning", "warnings"), ("info", "infos")):
        summary[key] = sum(1 for f in findings if f["severity"] == sev)
