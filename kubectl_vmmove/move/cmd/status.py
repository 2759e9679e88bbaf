"""`kubectl vmmove status`: Show the moves found in the namespaces you can read, or the per-VM steps of one move."""

import sys

from ...errors import UsageError
from ..state import records

DESCRIPTION = """Show the moves found in the namespaces you can read, or the per-VM steps of one move.

Moves are read from their journals (configmaps vmmove-<move-id> in the target namespaces). With a MOVE_ID, each VM's
phase, current step, disk progress and downtime are shown; --watch follows a running move, also one started from
another terminal, until it ends."""

EXAMPLES = """Examples:
  # All moves you can see
  kubectl vmmove status

  # One move, per VM
  kubectl vmmove status 7f3c2a

  # Follow a running move
  kubectl vmmove status 7f3c2a --watch

  # The journal's state as YAML
  kubectl vmmove status 7f3c2a -o yaml"""

FINAL_PHASES = records.FINAL_MOVE_PHASES


def add_arguments(parser):
    from ...flags import add_output_flag

    parser.add_argument("move_id", nargs="?", metavar="MOVE_ID", help="The move to show")
    parser.add_argument("-w", "--watch", action="store_true", help="Follow the move until it ends")
    # Listing already covers every namespace the user can read; -A is accepted because kubectl users type it.
    parser.add_argument("-A", "--all-namespaces", action="store_true",
                        help="List the moves of every namespace you can read (the default without -n)")
    add_output_flag(parser, formats=("table", "wide", "yaml", "json"))


def move_document(jr) -> dict:
    """The journal's state as one document, for -o yaml/json (plan and source objects left out)."""
    return {"apiVersion": "vmmove.io/v1alpha1", "kind": "MoveStatus",
            "metadata": {"name": jr.move_id, "namespace": jr.namespace,
                         "creationTimestamp": jr.obj.get("metadata", {}).get("creationTimestamp")},
            "move": jr.move(), "vms": jr.vms()}


def counts(jr) -> dict:
    out = {records.SUCCEEDED: 0, records.FAILED: 0, records.RUNNING: 0, records.PENDING: 0}
    for record in jr.vms().values():
        phase = records.VMRecord(record).phase
        out[phase] = out.get(phase, 0) + 1
    return out


def started(jr) -> str:
    """When the move was planned, by the clock of the kubectl-vmmove that wrote it: AGE compares it with this
    machine's clock, which the API server's creationTimestamp may be ahead of (AGE would read <invalid>)."""
    return jr.move().get("created") or jr.obj.get("metadata", {}).get("creationTimestamp") or ""


def overview_table(journals):
    from ...printers import Column, Table, age

    table = Table([Column("Move-ID"), Column("Source"), Column("Target"), Column("Strategy"), Column("VMs"),
                   Column("Succeeded"), Column("Failed"), Column("Phase"), Column("Verified"), Column("Age"),
                   Column("User", wide_only=True)])
    for jr in sorted(journals, key=started):
        move = jr.move()
        c = counts(jr)
        verified = move.get("verify", {}).get("passed")
        table.add(jr.move_id, move.get("source", ""), jr.namespace, move.get("strategy", ""), len(jr.vms()),
                  c[records.SUCCEEDED], c[records.FAILED], move_phase(move),
                  "-" if verified is None else ("yes" if verified else "no"),
                  age(started(jr) or None), move.get("createdBy", ""))
    return table


def move_phase(move: dict) -> str:
    """The phase a user reads: what run recorded, unless cleanup or rollback has finished since."""
    if (move.get("rollback") or {}).get("finished"):
        return records.ROLLED_BACK
    if (move.get("cleanup") or {}).get("finished"):
        return records.CLEANED_UP
    return move.get("phase", records.PENDING)


def vm_rows(jr):
    from ...printers import human_duration

    rows = []
    for name, record in sorted(jr.vms().items()):
        progress = record.get("progress")
        downtime = record.get("downtimeSeconds")
        rows.append({"vm": name, "phase": records.VMRecord(record).phase, "step": record.get("step", "-"),
                     "progress": f"{progress:.0f}%" if isinstance(progress, (int, float)) else "-",
                     "downtime": human_duration(downtime) if downtime is not None else "-",
                     "attempts": str(record.get("attempts", 0)), "message": record.get("message") or "-"})
    return rows


def print_move(jr, output, stream=None) -> None:
    from ...printers import Column, Table, print_table

    stream = stream or sys.stdout
    move = jr.move()
    if not output.no_headers:
        stream.write(f"Move {jr.move_id}: {move.get('source')} -> {jr.namespace}, strategy {move.get('strategy')}, "
                     f"MAC policy {move.get('macPolicy')}, phase {move_phase(move)}, by {move.get('createdBy')} "
                     f"at {move.get('created')}\n")
        from ..state import lease as leasemod

        held = leasemod.holder(jr)
        if held:
            import time

            stream.write(f"  in progress: {leasemod.describe(held)}, lease {leasemod.ago(held, time.time())}\n")
        moved = [n for n, r in jr.vms().items() if records.VMRecord(r).phase == records.SUCCEEDED]
        if move.get("strategy") == "transfer" and moved and not (move.get("cleanup") or {}).get("finished") and \
                not move.get("rollback"):
            from ..execution.transfer import sources_note

            stream.write(f"  source: {sources_note(jr.move_id, move.get('source', ''), jr.namespace, moved)}\n")
        for key in ("verify", "cleanup", "rollback"):
            if move.get(key):
                info = move[key]
                result = "passed" if info.get("passed") else ("failed" if "passed" in info else "done")
                stream.write(f"  {key}: {result} at {info.get('finished') or info.get('started')} by "
                             f"{info.get('user')}\n")
        stream.write("\n")
    table = Table([Column("VM"), Column("Phase"), Column("Step"), Column("Progress"), Column("Downtime"),
                   Column("Attempts", wide_only=True), Column("Message")])
    for row in vm_rows(jr):
        table.add(row["vm"], row["phase"], row["step"], row["progress"], row["downtime"], row["attempts"],
                  row["message"])
    print_table(table, output, stream=stream)


def watch(jr, stream=None) -> None:
    """Follow the journal by watch until the move ends; a live table on a terminal, lines otherwise."""
    from ...kube import errors as kerr
    from ...kube import kinds
    from ...progress import Progress
    from ..state import journal as journalmod

    progress = Progress(["VM", "PHASE", "STEP", "PROGRESS", "MESSAGE"], stream=stream or sys.stdout,
                        plain_keys=["VM", "PHASE", "STEP", "MESSAGE"])

    def show():
        for row in vm_rows(jr):
            progress.update(row["vm"], vm=row["vm"], phase=row["phase"], step=row["step"],
                            progress=row["progress"], message=row["message"])

    show()
    version = jr.obj.get("metadata", {}).get("resourceVersion")
    while jr.move().get("phase") not in FINAL_PHASES:
        try:
            # The main object and its parts (VM records live in the parts of a split journal).
            for etype, obj in jr.api.watch(kinds.CONFIGMAP, jr.namespace, resource_version=version,
                                           label_selector=f"{journalmod.JOURNAL_LABEL},"
                                                          f"{journalmod.MOVE_ID_LABEL}={jr.move_id}",
                                           timeout_seconds=60):
                version = obj.get("metadata", {}).get("resourceVersion") or version
                if etype in ("ADDED", "MODIFIED"):
                    jr.take(obj)
                    show()
                    if jr.move().get("phase") in FINAL_PHASES:
                        break
                elif etype == "DELETED" and obj.get("metadata", {}).get("name") == jr.name:
                    progress.finish()
                    raise UsageError(f"the journal of move {jr.move_id} was deleted")
        except kerr.Gone:
            jr.refresh()
            version = jr.obj.get("metadata", {}).get("resourceVersion")
            show()
    progress.finish()


def run(args):
    from ...kube.session import Session
    from ...printers import OutputOptions, dump_json, dump_yaml, print_table
    from ..state import journal as journalmod

    output = OutputOptions(args.output, getattr(args, "no_headers", False))
    session = Session.from_args(args)
    hint = [getattr(args, "namespace", None), session.namespace]
    if not args.move_id:
        if args.watch:
            raise UsageError("--watch follows one move: give its MOVE_ID")
        journals, searched = journalmod.list_visible(session.api, hint)
        if output.structured:
            doc = {"apiVersion": "v1", "kind": "List", "items": [move_document(j) for j in journals]}
            sys.stdout.write(dump_yaml(doc) if output.format == "yaml" else dump_json(doc))
            return 0
        hint_text = journalmod.scope_hint(searched)
        print_table(overview_table(journals), output,
                    empty_message="No moves found." + (f" ({hint_text})" if hint_text else ""))
        return 0
    jr = journalmod.find(session.api, args.move_id, hint)
    if output.structured:
        doc = move_document(jr)
        sys.stdout.write(dump_yaml(doc) if output.format == "yaml" else dump_json(doc))
        return 0
    if args.watch:
        watch(jr)
        return 0
    print_move(jr, output)
    return 0
