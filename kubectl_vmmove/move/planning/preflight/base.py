"""What every preflight rule shares: the finding shape, the rule context, and wording helpers."""



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
    def __init__(self, inv, graph, plan):
        self.inv, self.graph, self.plan = inv, graph, plan
        self.spec = plan["spec"]
        self.src = self.spec["source"]["namespace"]
        self.dst = self.spec["target"]["namespace"]
        self.move_id = self.spec["moveId"]
        self.vm_entries = {v["name"]: v for v in self.spec["vms"]}

    def steps(self, with_cleanup=False):
        out = list(self.spec.get("prepare") or ())
        for vm in self.spec["vms"]:
            out += vm["steps"]
            if with_cleanup:
                out += vm.get("cleanup") or ()
        if with_cleanup:
            out += self.spec.get("cleanup") or ()
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
