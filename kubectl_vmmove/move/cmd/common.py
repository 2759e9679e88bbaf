"""What several move verbs do alike: open a move from its journal, verify it now, hold its lease."""

import contextlib
import sys


def open_move(args):
    """(session, journal, RunContext) of the move named on the command line."""
    from ...kube.session import Session
    from ..context import RunContext
    from ..state import journal as journalmod

    session = Session.from_args(args)
    only = getattr(args, "namespace", None)       # -n: look there only
    jr = journalmod.find(session.api, args.move_id, [only, session.namespace], only=only)
    ctx = RunContext(api=session.api, plan=jr.plan(), journal=jr, user=session.user)
    return session, jr, ctx


def run_checks(ctx, jr, record: bool = True, err=None):
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
        (err or sys.stderr).write(f'(the result was not recorded in the journal: you may not patch configmaps in namespace '
                         f'"{jr.namespace}"; check with \'kubectl auth can-i patch configmaps -n {jr.namespace}\')\n')
    return checks


@contextlib.contextmanager
def hold_lease(ctx, command, force):
    """The move's lease for the duration of a `with` block (see lease.py); refuses while another process holds it,
    and tells a user who may not write the journal which right is missing.

    A lost lease (taken over, or not renewable before it expires) sets `ctx.stop`, which ends any wait at once
    (kube.wait.WaitStopped); the block then ends with LeaseLost and its message, whatever it raised meanwhile."""
    from ...errors import UserError
    from ...kube import errors as kerr
    from ...kube.wait import WaitStopped
    from ..context import Interrupted
    from ..state.lease import Lease, LeaseLost

    lease = Lease(ctx.journal, command, ctx.user, notice=lambda text: sys.stderr.write(text + "\n"))
    try:
        lease.acquire(force=force)
    except kerr.Forbidden as err:
        raise journal_refused(err, ctx.move_id, ctx.journal.namespace, command) from err
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


def journal_refused(err, move_id: str, namespace: str, command: str):
    """A UserError for a journal write the user may not make: which object, which right, how to check and get it.
    Raised before anything else changed (the lease is taken first)."""
    from ...errors import UserError
    from ..state import journal as journalmod

    name = journalmod.name_for(move_id)
    return UserError(f'you may not change the journal of move {move_id} (configmap {name} in namespace '
                     f'"{namespace}"), where {command} records what it does. It needs to create '
                     f'and patch configmaps in "{namespace}" (the namespace\'s edit or admin role grants it): check '
                     f"with 'kubectl auth can-i patch configmaps -n {namespace}' and ask for that right, or let someone "
                     f"who has it run the command. The server said: {err}")


def refuse_taken_move_id(api, opts, same=None):
    """A move id given with --move-id must name no move yet (a second journal under the same id would make every
    later lookup ambiguous), unless `same(journal)` says it is this very move; returns that journal or None."""
    from ...errors import UserError
    from ..state import journal as journalmod

    if not opts.move_id:
        return None
    taken = journalmod.find_or_none(api, opts.move_id, [opts.target, opts.source])
    if taken is None or (same is not None and same(taken)):
        return taken
    move = taken.move()
    raise UserError(f'move id "{opts.move_id}" already names a move ({move.get("source")} -> {taken.namespace}, '
                    f"journal configmap/{taken.name} in {taken.namespace}); choose another --move-id, or leave it "
                    f"out for a new one. To continue that move: kubectl vmmove run --resume {opts.move_id}")
