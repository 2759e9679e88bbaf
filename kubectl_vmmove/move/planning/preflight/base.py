"""What every preflight rule shares: the finding shape, the rule context, and wording helpers."""

from typing import List

from ..moveplan import MovePlan

SEVERITIES = ("error", "warning", "info")


SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def finding(severity, code, message, remedy="", kind=None, name=None, namespace=None) -> dict:
    out = {"severity": severity, "code": code, "message": message}
    if remedy:
        out["remedy"] = remedy
    if kind:
        out["subject"] = {k: v for k, v in (("kind", kind), ("namespace", namespace), ("name", name)) if v}
    return out


class Context:
    """What a rule looks at: the inventory, the graph and the plan (the document, and its typed view `move_plan`)."""

    def __init__(self, inv, graph, plan: dict) -> None:
        self.inv, self.graph, self.plan = inv, graph, plan
        self.move_plan = MovePlan(plan)
        self.spec = self.move_plan.spec
        self.src = self.move_plan.source
        self.dst = self.move_plan.target
        self.move_id = self.move_plan.move_id
        self.strategy = self.move_plan.strategy
        self.vms = self.move_plan.vms
        self.vm_entries = {v["name"]: v for v in self.vms}

    def steps(self, with_cleanup: bool = False) -> List[dict]:
        """Every step in plan order; with `with_cleanup` each VM's cleanup after its steps, the shared cleanup last."""
        out = self.move_plan.prepare
        for vm in self.vms:
            out += vm["steps"]
            if with_cleanup:
                out += vm.get("cleanup") or ()
        if with_cleanup:
            out += self.move_plan.cleanup
        return out


def vm_names(names) -> str:
    names = list(names)
    shown = ", ".join(f'"{n}"' for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ("VM " if len(names) == 1 else "VMs ") + shown + more


def agreeing(names, one: str, several: str) -> str:
    """The verb that agrees with `vm_names(names)`: "VM "a" keeps its", "VMs "a", "b" keep their"."""
    return one if len(list(names)) == 1 else several


def dedupe(items):
    seen, out = set(), []
    for f in items:
        key = (f["code"], f["message"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
