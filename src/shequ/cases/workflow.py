"""The case workflow of GB/T 30428 (数字化城市管理信息系统) as an explicit state machine.

受理 accept → 立案 register → 派遣 dispatch → 处置 handle (start, report back 反馈) → 核查 verify →
结案 close → 评价 evaluate, with 退回 return / 改派 re-dispatch, 返工 rework after a failed check,
and review of a 不满意 rating that may reopen the case. ``MOVES`` is the whole machine: which
move leads from which states to which state, and the permission it needs at the case's area.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    NEW = "new", _("Received")  # 待受理
    ACCEPTED = "accepted", _("Accepted")  # 已受理
    REGISTERED = "registered", _("Registered")  # 已立案
    DISPATCHED = "dispatched", _("Dispatched")  # 已派遣
    IN_PROGRESS = "in_progress", _("In progress")  # 处置中
    RETURNED = "returned", _("Returned by the department")  # 已退回
    REPORTED = "reported", _("Reported back")  # 已反馈, awaiting 核查
    VERIFIED = "verified", _("Verified")  # 核查通过
    CLOSED = "closed", _("Closed")  # 已结案
    REVIEW = "review", _("Under review")  # 不满意复核
    EVALUATED = "evaluated", _("Evaluated")  # 已评价


OPEN_STATES = frozenset(
    {
        State.NEW,
        State.ACCEPTED,
        State.REGISTERED,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.RETURNED,
        State.REPORTED,
        State.VERIFIED,
        State.REVIEW,
    }
)
DONE_STATES = frozenset({State.CLOSED, State.EVALUATED})
# Open states that run against the deadline (a case under review of a rating does not).
TIMED_STATES = OPEN_STATES - {State.REVIEW}


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    NOT_OURS = "not_ours", _("Not our responsibility")
    DUPLICATE = "duplicate", _("Duplicate")
    UNRESOLVABLE = "unresolvable", _("Unable to resolve")
    WITHDRAWN = "withdrawn", _("Withdrawn")


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset
    target: str
    action: str  # the permission's action: cases.<action>_case at the case's area
    needs_note: bool = False


def _m(name, label, sources, target, action, needs_note=False) -> Move:
    return Move(name, label, frozenset(sources), target, action, needs_note)


S = State
MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        _m("accept", _("Accept"), [S.NEW], S.ACCEPTED, "add"),
        _m("register", _("Register"), [S.ACCEPTED], S.REGISTERED, "dispatch"),
        _m("dispatch", _("Dispatch"), [S.REGISTERED, S.RETURNED], S.DISPATCHED, "dispatch"),
        _m("start", _("Start handling"), [S.DISPATCHED], S.IN_PROGRESS, "handle"),
        _m("report", _("Report back"), [S.IN_PROGRESS], S.REPORTED, "handle"),
        _m("return", _("Return"), [S.DISPATCHED, S.IN_PROGRESS], S.RETURNED, "handle", True),
        _m("verify", _("Verify (passed)"), [S.REPORTED], S.VERIFIED, "verify"),
        _m("rework", _("Rework (check failed)"), [S.REPORTED], S.IN_PROGRESS, "verify", True),
        _m(
            "close",
            _("Close"),
            [S.NEW, S.ACCEPTED, S.REGISTERED, S.RETURNED, S.VERIFIED],
            S.CLOSED,
            "dispatch",
        ),
        _m("evaluate", _("Evaluate"), [S.CLOSED], S.EVALUATED, "add"),
        _m("reopen", _("Reopen"), [S.REVIEW], S.DISPATCHED, "dispatch", True),
        _m("uphold", _("Uphold the closing"), [S.REVIEW], S.EVALUATED, "dispatch", True),
        _m("withdraw", _("Withdraw"), OPEN_STATES - {S.REVIEW}, S.CLOSED, "add"),
        _m(
            "merge", _("Merge as the same incident"), OPEN_STATES - {S.REVIEW}, S.CLOSED, "dispatch"
        ),
    ]
}
# An evaluation of 不满意 puts the case under review instead of EVALUATED.
EVALUATE_DISSATISFIED_TARGET = S.REVIEW

# Outcomes a close may give from each state: 'resolved' only after a passed check.
CLOSE_OUTCOMES = {
    S.VERIFIED: {Outcome.RESOLVED, Outcome.UNRESOLVABLE},
    S.NEW: {Outcome.NOT_OURS, Outcome.DUPLICATE},
    S.ACCEPTED: {Outcome.NOT_OURS, Outcome.DUPLICATE},
    S.REGISTERED: {Outcome.NOT_OURS, Outcome.DUPLICATE, Outcome.UNRESOLVABLE},
    S.RETURNED: {Outcome.NOT_OURS, Outcome.DUPLICATE, Outcome.UNRESOLVABLE},
}


class IllegalMove(Exception):
    """A move the workflow does not allow from the case's state (the message names both)."""


def check(state: str, move_name: str) -> Move:
    move = MOVES.get(move_name)
    if move is None:
        raise IllegalMove(_("There is no move “%(move)s”.") % {"move": move_name})
    if state not in move.sources:
        allowed = ", ".join(str(MOVES[n].label) for n in moves_from(state)) or "—"
        raise IllegalMove(
            _(
                "A case in state “%(state)s” cannot be moved by “%(move)s”. "
                "Allowed from this state: %(allowed)s."
            )
            % {"state": State(state).label, "move": move.label, "allowed": allowed}
        )
    return move


def moves_from(state: str) -> list[str]:
    return [name for name, move in MOVES.items() if state in move.sources]
