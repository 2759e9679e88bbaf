"""What every step of a move run gets: the API, the plan, the journal, the per-step timeout, progress reporting,
and the error a step raises when its VM cannot go on."""

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import UserError
from .rewrite import MOVE_ID_LABEL, SOURCE_ANNOTATION

if TYPE_CHECKING:
    from ..kube.client import Api


class StepFailed(UserError):
    """This VM cannot go on; the message is the cause as the cluster tells it."""


class Interrupted(Exception):
    """The user asked the run to stop (Ctrl-C); the VM stays where it is and a re-run continues it."""


@dataclass
class RunContext:
    api: "Api"
    plan: dict
    journal: Any = None           # state.journal.Journal; Any so that tests may hand in a stand-in
    timeout: Optional[float] = 3600.0
    user: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    lease: Any = None           # state.lease.Lease while this process holds the move
    report: Callable[..., None] = lambda vm, **fields: None

    @property
    def move_id(self) -> str:
        return self.plan["spec"]["moveId"]

    @property
    def source(self) -> str:
        return self.plan["spec"]["source"]["namespace"]

    @property
    def target(self) -> str:
        return self.plan["spec"]["target"]["namespace"]

    @property
    def strategy(self) -> str:
        return self.plan["spec"]["strategy"]

    @property
    def lease_lost(self) -> bool:
        return self.lease is not None and self.lease.lost_to is not None

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise Interrupted()

    def ours(self, obj: Optional[dict]) -> bool:
        """Whether an object in the target was created by this move (so a re-run may reuse it)."""
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
        return labels.get(MOVE_ID_LABEL) == self.move_id

    def not_ours(self, kind: str, name: str, obj: dict) -> StepFailed:
        origin = ((obj.get("metadata") or {}).get("annotations") or {}).get(SOURCE_ANNOTATION)
        other = ((obj.get("metadata") or {}).get("labels") or {}).get(MOVE_ID_LABEL)
        why = f"it was created by move {other}" if other else "it was not created by this move"
        if origin and not other:
            why += f" (copied from {origin})"
        return StepFailed(f'{kind.lower()} "{name}" already exists in namespace "{self.target}" and {why}; it is '
                          "left untouched. Rename or remove it, or move to another namespace, then re-run")
