"""`prune`: remove the journals of finished moves (cleaned up or rolled back) older than an age.

A move is finished once its cleanup or its rollback has finished: nothing is left to do with it but read its record,
and its age counts from then (a move planned long ago but rolled back yesterday is one day old). Deleting the main
journal ConfigMap deletes its parts too (they are owned by it). Each delete carries the uid that was read as a
precondition, so a journal re-created since is never touched; a journal whose lease a live process holds is kept.
"""

import datetime as _dt
import socket
import time
from dataclasses import dataclass
from typing import List, Optional

from ...kube import errors as kerr
from ...kube import kinds
from ...printers import parse_timestamp
from ..state import journal as journalmod
from ..state import lease as leasemod
from ..state import records


@dataclass
class FinishedMove:
    """One finished move: its journal, how it ended (CleanedUp or RolledBack) and when."""

    journal: journalmod.Journal
    phase: str
    finished: _dt.datetime

    @property
    def move_id(self) -> str:
        return self.journal.move_id

    @property
    def namespace(self) -> str:
        return self.journal.namespace

    @property
    def source(self) -> str:
        return str(self.journal.move().get("source") or "")


def finished(jr: journalmod.Journal) -> Optional[FinishedMove]:
    """The move as finished, or None while it may still be verified, cleaned up or rolled back."""
    move = jr.move()
    for key, phase in (("rollback", records.ROLLED_BACK), ("cleanup", records.CLEANED_UP)):
        stamp = parse_timestamp((move.get(key) or {}).get("finished"))
        if stamp is not None:
            return FinishedMove(jr, phase, stamp)
    return None


def older_than(journals: List[journalmod.Journal], seconds: int,
               now: Optional[_dt.datetime] = None) -> List[FinishedMove]:
    """The finished moves among `journals` that finished at least `seconds` ago, newest first."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    out = [f for f in map(finished, journals) if f is not None and (now - f.finished).total_seconds() >= seconds]
    return sorted(out, key=lambda f: (f.finished, f.namespace, f.move_id), reverse=True)


def remove(api, move: FinishedMove, dry_run: bool = False) -> str:
    """Delete one move's journal (its parts go with it); the result as the table shows it."""
    jr = move.journal
    held = leasemod.holder(jr)
    if held and leasemod.verdict(held, time.time(), socket.gethostname()) == leasemod.LIVE:
        return f"kept: in use by {leasemod.describe(held)}"
    uid = jr.obj.get("metadata", {}).get("uid")
    try:
        api.delete(kinds.CONFIGMAP, jr.name, jr.namespace, propagation="Background",
                   preconditions={"uid": uid} if uid else None, dry_run=dry_run)
    except kerr.NotFound:
        return "already gone"
    except kerr.Conflict:
        return "kept: re-created since it was listed"
    except kerr.Forbidden:
        return f'kept: you may not delete configmaps in namespace "{jr.namespace}"'
    return "would delete" if dry_run else "deleted"


def journals_in(api, namespace: Optional[str]) -> List[journalmod.Journal]:
    """The move journals of `namespace`, or of every namespace when it is None (Forbidden when not allowed)."""
    out = []
    for obj in api.list(kinds.CONFIGMAP, namespace, label_selector=f"{journalmod.JOURNAL_LABEL}=true").items:
        move_id = ((obj.get("metadata") or {}).get("labels") or {}).get(journalmod.MOVE_ID_LABEL)
        if move_id:
            out.append(journalmod.Journal(api, obj["metadata"]["namespace"], move_id, obj))
    return out


def document(moves: List[FinishedMove], results: List[str]) -> List[dict]:
    """-o yaml|json items: one per move, with what became of its journal."""
    return [{"apiVersion": "vmmove.io/v1alpha1", "kind": "MoveRecord",
             "metadata": {"name": m.move_id, "namespace": m.namespace},
             "source": m.source, "phase": m.phase, "finished": journalmod.now_text(m.finished),
             "journal": f"configmap/{m.journal.name}", "result": result} for m, result in zip(moves, results)]
