"""What `assess` and `plan` print: the assessment document and the tables of VMs and findings."""

import sys
from typing import Dict, List

from ...printers import Column, OutputOptions, Table, print_table
from .. import quantities
from ..planning import estimates
from ..planning.moveplan import MovePlan

SHORT_KIND = {"Secret": "secret", "ConfigMap": "cm", "ServiceAccount": "sa", "NetworkAttachmentDefinition": "nad",
              "VirtualMachineInstancetype": "instancetype", "VirtualMachinePreference": "preference",
              "ControllerRevision": "revision", "Service": "svc", "NetworkPolicy": "netpol"}
VERDICTS = ("movable", "needs attention", "blocked")
_TABLE = OutputOptions("table", False)


def _for_vm(findings, name) -> List[dict]:
    return [f for f in findings if not f.get("vms") or name in f["vms"]]


def verdict(findings) -> tuple:
    """(verdict, reason codes, first message) from a VM's findings: errors block, warnings need attention."""
    for severity, word in (("error", "blocked"), ("warning", "needs attention")):
        hits = [f for f in findings if f["severity"] == severity]
        if hits:
            codes = []
            for f in hits:
                if f["code"] not in codes:
                    codes.append(f["code"])
            return word, codes, hits[0]["message"]
    return "movable", [], ""


def assessment(inv, graph, doc) -> dict:
    findings = doc["status"]["findings"]
    vms = []
    for entry in MovePlan(doc).vms:
        node = graph.nodes[entry["name"]]
        mine = _for_vm(findings, entry["name"])
        word, codes, _ = verdict(mine)
        vms.append({
            "name": entry["name"],
            "status": entry["status"],
            "runStrategy": entry["runStrategy"],
            "verdict": word,
            "reasons": codes,
            "macAddresses": entry["macAddresses"],
            "firmwareUUID": entry["firmwareUUID"],
            "disks": [{k: v for k, v in d.items() if k not in ("targetStorageClass",)} for d in entry["disks"]],
            "dependencies": _used_by_others(graph, entry),
            "externalNetworks": entry.get("externalNetworks", []),
            "clusterInstancetypes": [f"{k}/{n}" for k, n in node.cluster_instancetypes],
            "snapshots": node.snapshots,
            "exports": node.exports,
            "findings": [{k: v for k, v in f.items() if k != "vms"} for f in mine],
        })
    return {"apiVersion": "vmmove.io/v1alpha1", "kind": "Assessment", "metadata": {"namespace": inv.source},
            "vms": vms,
            # Document keys are camelCase like every other key; the table shows the words.
            "summary": {_camel(w): sum(1 for v in vms if v["verdict"] == w) for w in VERDICTS}}


def _camel(words: str) -> str:
    first, *rest = words.split()
    return first + "".join(w.capitalize() for w in rest)


def _used_by_others(graph, entry) -> List[dict]:
    """For assess, "shared" means used by any other VM of the namespace (nothing is moving yet)."""
    out = []
    for dep in entry["dependencies"]:
        others = sorted(graph.users.get((dep["kind"], dep["name"]), set()) - {entry["name"]})
        item = {"kind": dep["kind"], "name": dep["name"]}
        if others:
            item["sharedWith"] = others
        out.append(item)
    return out


def _dependency_text(deps) -> str:
    counts: Dict[str, int] = {}
    for d in deps:
        key = SHORT_KIND.get(d["kind"], d["kind"].lower())
        counts[key] = counts.get(key, 0) + 1
    return ",".join(f"{k}={n}" for k, n in counts.items())


def _shared_text(deps) -> str:
    return ",".join(f'{SHORT_KIND.get(d["kind"], d["kind"].lower())}/{d["name"]}' for d in deps if d.get("sharedWith"))


def _unique(values) -> str:
    out = []
    for v in values:
        v = v or "<default>"
        if v not in out:
            out.append(v)
    return ",".join(out)


def print_assessment(report, output, stream=None) -> None:
    table = Table([Column("Name"), Column("Status"), Column("Run-Strategy"), Column("Disks"), Column("Size"),
                   Column("Storage-Classes"), Column("Modes"), Column("Dependencies"), Column("Shared"),
                   Column("Verdict"), Column("Message", wide_only=True)])
    for vm in report["vms"]:
        verdict_text = vm["verdict"] + (f' ({",".join(vm["reasons"])})' if vm["reasons"] else "")
        message = verdict(vm["findings"])[2]   # the message of what decided the verdict
        table.add(vm["name"], vm["status"], vm["runStrategy"], len(vm["disks"]),
                  quantities.human_bytes(sum(d["size"] for d in vm["disks"])),
                  _unique(d["storageClass"] for d in vm["disks"]), _unique(d["volumeMode"] for d in vm["disks"]),
                  _dependency_text(vm["dependencies"]), _shared_text(vm["dependencies"]), verdict_text, message)
    print_table(table, output, stream=stream)


def print_assessments(reports, output, stream=None) -> None:
    """`assess -A`: a `Namespace: NAME` heading and the namespace's table, a blank line between namespaces.
    --no-headers leaves out the headings too, as it leaves out every header line."""
    stream = stream or sys.stdout
    for number, report in enumerate(reports):
        if not output.no_headers:
            stream.write(("\n" if number else "") + f'Namespace: {report["metadata"]["namespace"]}\n')
        print_assessment(report, output, stream=stream)


def print_plan(doc, output, stream=None) -> None:
    stream = stream or sys.stdout
    plan, summary = MovePlan(doc), doc["status"]["summary"]
    findings = doc["status"]["findings"]
    if not output.no_headers:
        stream.write(f'Plan for move {plan.move_id}: {plan.source} -> {plan.target}, '
                     f'strategy {plan.strategy}, MAC policy {plan.mac_policy}, {summary["vms"]} VM(s), '
                     f'{summary["disks"]} disk(s), {quantities.human_bytes(summary["bytes"])}\n\n')
    table = Table([Column("VM"), Column("Status"), Column("Disks"), Column("Size"), Column("Method"),
                   Column("Downtime"), Column("Steps"), Column("Target-Run-Strategy"), Column("Verdict"),
                   Column("Dependencies", wide_only=True), Column("Shared", wide_only=True)])
    for vm in plan.vms:
        word, codes, _ = verdict(_for_vm(findings, vm["name"]))
        table.add(vm["name"], vm["status"], len(vm["disks"]), quantities.human_bytes(sum(d["size"] for d in vm["disks"])),
                  _unique(d["method"] for d in vm["disks"]) if vm["disks"] else "",
                  estimates.human_seconds(vm["estimate"]["downtimeSeconds"]), len(vm["steps"]),
                  vm["targetRunStrategy"], word + (f' ({",".join(codes)})' if codes else ""),
                  _dependency_text(vm["dependencies"]), _shared_text(vm["dependencies"]))
    print_table(table, output, stream=stream)
    if findings:
        stream.write("\n")
        ftable = Table([Column("Severity"), Column("Code"), Column("Subject"), Column("Message"),
                        Column("Remedy", wide_only=True)])
        for f in findings:
            subject = f.get("subject") or {}
            text = f'{subject.get("kind", "").lower()}/{subject["name"]}' if subject.get("name") else ""
            ftable.add(f["severity"], f["code"], text, f["message"], f.get("remedy", ""))
        print_table(ftable, output, stream=stream)
    if not output.no_headers:
        stream.write(f'\n{summary.get("errors", 0)} error(s), {summary.get("warnings", 0)} warning(s), '
                     f'{summary.get("infos", 0)} info(s). ')
        if summary.get("errors"):
            stream.write("Fix the errors and plan again; run refuses a plan with errors.\n")
        else:
            stream.write("Save it with -o yaml > plan.yaml, then: kubectl vmmove run -f plan.yaml\n")


def print_checks(checks, output, stream=None):
    from ...printers import Column, Table, dump_json, dump_yaml, print_table

    stream = stream or sys.stdout
    if output.structured:
        doc = {"apiVersion": "vmmove.io/v1alpha1", "kind": "Verification", "passed": checks.passed,
               "checks": checks.rows}
        stream.write(dump_yaml(doc) if output.format == "yaml" else dump_json(doc))
        return
    table = Table([Column("VM"), Column("Check"), Column("Result"), Column("Reason")])
    rows = checks.rows if output.format == "wide" else compact_rows(checks.rows)
    for row in rows:
        table.add(row["vm"], row["check"], "pass" if row["passed"] else "FAIL", row["reason"] or "-")
    print_table(table, output, stream=stream)


def compact_rows(rows):
    """The default table: per VM, each failing check and each passing one that says something (an IP address, an
    expected change), then one row counting the other checks that passed. A move of many VMs stays readable and a
    failure is never buried; -o wide lists every check."""
    out, quiet = [], {}
    for row in rows:
        if not row["passed"] or row["reason"]:
            out.append(row)
        quiet.setdefault(row["vm"], 0)
        if row["passed"] and not row["reason"]:
            quiet[row["vm"]] += 1
    shown = {}
    for row in out:
        shown[row["vm"]] = shown.get(row["vm"], 0) + 1
    result = []
    for vm, count in quiet.items():
        result += [row for row in out if row["vm"] == vm]
        if count:
            noun = "check" if count == 1 else "checks"
            if shown.get(vm):
                label = f"{count} other {noun}"
            else:
                label = f"all {count} {noun}" if count > 1 else "1 check"
            result.append({"vm": vm, "check": label, "passed": True, "reason": ""})
    return result


# ---------------------------------------------------------------------------------------------- results of run,
# cleanup and rollback: a table by default, a document with -o yaml|json, and with -o name the objects acted on as
# `kubectl create|delete|rollout undo -o name` print them (kind.group/name).

RESULT_API_VERSION = "vmmove.io/v1alpha1"


def _result(kind: str, move_id: str, namespace: str, **fields) -> dict:
    return {"apiVersion": RESULT_API_VERSION, "kind": kind, "metadata": {"name": move_id, "namespace": namespace},
            **fields}


def _print_names(kind_name: str, names, stream) -> None:
    from ...kube import kinds
    from ...printers import resource_name

    api_version = kinds.by_kind(kind_name).api_version
    for name in sorted(names):
        stream.write(resource_name({"apiVersion": api_version, "kind": kind_name, "metadata": {"name": name}}) + "\n")


def print_run_result(plan: MovePlan, records_by_vm: Dict[str, dict], output, stream=None) -> None:
    """Per VM: its phase, downtime and message, as the journal recorded them."""
    from ...printers import human_duration, print_document
    from ..state.records import SUCCEEDED, VMRecord

    stream = stream or sys.stdout
    vms = []
    for vm in plan.vms:
        record = records_by_vm.get(vm["name"], {})
        row = {"name": vm["name"], "phase": VMRecord(record).phase}
        if record.get("downtimeSeconds") is not None:
            row["downtimeSeconds"] = record["downtimeSeconds"]
        if record.get("message"):
            row["message"] = record["message"]
        vms.append(row)
    if output.format == "name":
        _print_names("VirtualMachine", [v["name"] for v in vms if v["phase"] == SUCCEEDED], stream)
        return
    if output.structured:
        phase = SUCCEEDED if all(v["phase"] == SUCCEEDED for v in vms) else "Failed"
        print_document(_result("MoveRunResult", plan.move_id, plan.target, source=plan.source, target=plan.target,
                               phase=phase, vms=vms), output, stream)
        return
    table = Table([Column("VM"), Column("Result"), Column("Downtime"), Column("Message")])
    for v in vms:
        downtime = v.get("downtimeSeconds")
        table.add(v["name"], v["phase"], human_duration(downtime) if downtime is not None else "-",
                  v.get("message") or "-")
    print_table(table, output, stream=stream)


def print_cleanup_result(move_id: str, target: str, source: str, rows: List[dict], output, dry_run: bool,
                         stream=None) -> None:
    """Per source object: deleted, would delete, already gone or kept (and why)."""
    from ...printers import print_document

    stream = stream or sys.stdout
    objects = [{"kind": r["kind"], "name": r["name"], "namespace": r.get("namespace", source), "result": r["result"]}
               for r in rows]
    if output.format == "name":
        for kind_name in dict.fromkeys(o["kind"] for o in objects):
            _print_names(kind_name, [o["name"] for o in objects if o["kind"] == kind_name], stream)
        return
    if output.structured:
        print_document(_result("MoveCleanupResult", move_id, target, source=source, dryRun=dry_run,
                               objects=objects), output, stream)
        return
    table = Table([Column("Kind"), Column("Name"), Column("Namespace"), Column("Result")])
    for o in objects:
        table.add(o["kind"], o["name"], o["namespace"], o["result"])
    print_table(table, output, stream=stream)


def print_rollback_result(move_id: str, target: str, source: str, rows: List[dict], output, stream=None) -> None:
    """Per VM (and "(shared)" for the shared objects): rolled back or failed, with the detail."""
    from ...printers import print_document
    from ..state.records import ROLLED_BACK

    stream = stream or sys.stdout
    vms = [{"name": r["vm"], "result": r["result"], **({"detail": r["detail"]} if r["detail"] else {})}
           for r in rows]
    if output.format == "name":
        _print_names("VirtualMachine", [v["name"] for v in vms if v["result"] == ROLLED_BACK
                                        and v["name"] != "(shared)"], stream)
        return
    if output.structured:
        print_document(_result("MoveRollbackResult", move_id, target, source=source, vms=vms), output, stream)
        return
    table = Table([Column("VM"), Column("Result"), Column("Detail")])
    for v in vms:
        table.add(v["name"], v["result"], v.get("detail") or "-")
    print_table(table, output, stream=stream)


def print_confirmation(doc, stream) -> None:
    """What `run` asks about on a terminal: the VMs with their status and downtime estimates, and every warning of
    the plan, so that the answer is given knowing them. The caller writes the question itself."""
    plan = MovePlan(doc)
    stream.write(f'Move {len(plan.vms)} VM(s) from "{plan.source}" to "{plan.target}" (strategy {plan.strategy}):\n\n')
    table = Table([Column("VM"), Column("Status"), Column("Disks"), Column("Size"), Column("Downtime")])
    for vm in plan.vms:
        table.add(vm["name"], vm["status"], len(vm["disks"]),
                  quantities.human_bytes(sum(d["size"] for d in vm["disks"])),
                  estimates.human_seconds(vm["estimate"]["downtimeSeconds"]))
    print_table(table, _TABLE, stream=stream)
    warnings = [f for f in doc["status"]["findings"] if f["severity"] == "warning"]
    if warnings:
        stream.write(f"\n{len(warnings)} warning(s):\n")
        for f in warnings:
            subject = f.get("subject") or {}
            about = f' ({subject.get("kind", "").lower()}/{subject["name"]})' if subject.get("name") else ""
            stream.write(f'  {f["code"]}{about}: {f["message"]}\n')
    offline = [v for v in plan.vms if plan.strategy_of(v) != "live"]
    how = ("running VMs are stopped while their disks copy" if offline else
           "the VMs keep running and move by live migration")
    stream.write(f"\nDOWNTIME is the plan's estimate; {how}. ")


def prune_table(moves, results=None) -> Table:
    """`prune`: the finished moves whose journals go (or would go), newest first, with what became of each."""
    from ...printers import age, format_timestamp

    columns = [Column("Move-ID"), Column("Namespace"), Column("Source"), Column("Phase"), Column("Finished")]
    if results is not None:
        columns.append(Column("Result"))
    table = Table(columns)
    for i, move in enumerate(moves):
        row = [move.move_id, move.namespace, move.source, move.phase, age(format_timestamp(move.finished))]
        table.add(*row, *([results[i]] if results is not None else []))
    return table
