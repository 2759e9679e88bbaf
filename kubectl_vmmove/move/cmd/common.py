"""What several move verbs do alike: open a move from its journal, verify it now, hold its lease."""

import contextlib
import sys


def open_move(args):
    """(session, journal, RunContext) of the move named on the command line."""
    from ...kube.session import Session
    from ..context import RunContext
    from ..state import journal as journalmod

    session = Session.from_args(args)
    jr = journalmod.find(session.api, args.move_id, [getattr(args, "namespace", None), session.namespace])
    ctx = RunContext(api=session.api, plan=jr.plan(), journal=jr, user=session.user)
    return session, jr, ctx


def run_checks(ctx, jr, record: bool = True):
    """Verify now and, unless `record` is False (a dry run), record the result in the journal."""
    from ..aftercare import verification
    from ..state import journal as journalmod

    checks = verification.verify(ctx, jr.vms())
    if not record:
        return checks
    failures = [f"{r['vm']}: {r['check']}: {r['reason']}" for r in checks.failures()]

    def note(move):
        move["verify"] = {"passed": checks.passed, "finished": journalmod.now_text(), "user": ctx.user,
                          "checks": len(checks.rows), "failures": failures[:20]}

    from ...kube import errors as kerr

    try:
        jr.move_update(note)
    except kerr.Forbidden:
        # A read-only user may still verify; the journal just does not learn the result.
        sys.stderr.write(f'(the result was not recorded in the journal: you may not patch configmaps in namespace '
                         f'"{jr.namespace}"; check with \'kubectl auth can-i patch configmaps -n {jr.namespace}\')\n')
    return checks


@contextlib.contextmanager
def hold_lease(ctx, command, force):
    """The move's lease for the duration of a `with` block (see lease.py); refuses while another process holds it.

    A lost lease (taken over, or not renewable before it expires) sets `ctx.stop`, which ends any wait at once
    (kube.wait.WaitStopped); the block then ends with LeaseLost and its message, whatever it raised meanwhile."""
    from ...errors import UserError
    from ...kube.wait import WaitStopped
    from ..context import Interrupted
    from ..state.lease import Lease, LeaseLost

    lease = Lease(ctx.journal, command, ctx.user, notice=lambda text: sys.stderr.write(text + "\n"))
    lease.acquire(force=force)
    ctx.lease = lease
    ctx.api.stop_waiting = ctx.stop
    lease.start_heartbeat(on_lost=lambda _holder: ctx.stop.set())
    try:
        yield lease
        if lease.lost_to is not None:
            raise LeaseLost(lease.lost_message())
    except (UserError, WaitStopped, Interrupted) as err:
        if lease.lost_to is not None and not isinstance(err, LeaseLost):
            raise LeaseLost(lease.lost_message()) from err
        raise
    finally:
        lease.release()
