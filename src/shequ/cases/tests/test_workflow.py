"""The state machine: every legal move leads where GB/T 30428 says, every other is refused."""

import pytest

from shequ.cases import workflow
from shequ.cases.workflow import MOVES, IllegalMove, State

LEGAL = {
    (State.NEW, "accept"): State.ACCEPTED,
    (State.ACCEPTED, "register"): State.REGISTERED,
    (State.REGISTERED, "dispatch"): State.DISPATCHED,
    (State.RETURNED, "dispatch"): State.DISPATCHED,  # 改派
    (State.DISPATCHED, "start"): State.IN_PROGRESS,
    (State.DISPATCHED, "return"): State.RETURNED,
    (State.IN_PROGRESS, "return"): State.RETURNED,
    (State.IN_PROGRESS, "report"): State.REPORTED,
    (State.REPORTED, "verify"): State.VERIFIED,
    (State.REPORTED, "rework"): State.IN_PROGRESS,  # 返工
    (State.VERIFIED, "close"): State.CLOSED,
    (State.NEW, "close"): State.CLOSED,
    (State.ACCEPTED, "close"): State.CLOSED,
    (State.REGISTERED, "close"): State.CLOSED,
    (State.RETURNED, "close"): State.CLOSED,
    (State.CLOSED, "evaluate"): State.EVALUATED,
    (State.REVIEW, "reopen"): State.DISPATCHED,
    (State.REVIEW, "uphold"): State.EVALUATED,
}
LEGAL.update(
    {
        (s, move): State.CLOSED
        for s in workflow.OPEN_STATES
        if s != State.REVIEW
        for move in ("withdraw", "merge")
    }
)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("move", list(MOVES))
def test_every_move_from_every_state(state, move):
    if (state, move) in LEGAL:
        assert workflow.check(state, move).target == LEGAL[(state, move)]
    else:
        with pytest.raises(IllegalMove) as exc:
            workflow.check(state, move)
        message = str(exc.value)
        assert str(State(state).label) in message and str(MOVES[move].label) in message


def test_the_table_above_is_the_whole_machine():
    found = {(s, name) for name, move in MOVES.items() for s in move.sources}
    assert found == set(LEGAL)


def test_unknown_move_is_refused():
    with pytest.raises(IllegalMove):
        workflow.check(State.NEW, "teleport")


def test_done_states_allow_only_rating():
    assert workflow.moves_from(State.CLOSED) == ["evaluate"]
    assert workflow.moves_from(State.REVIEW) == ["reopen", "uphold"]
    assert workflow.moves_from(State.EVALUATED) == []
