"""Screening (door-to-door campaigns): coverage per round — dwellings visited, nobody home,
refused, empty, not yet reached — households not reached, and flagged follow-ups, for the
campaigns whose dwellings lie in the area. The same counts as ``campaigns.services.coverage``
(one row per dwelling task), summed up the tree.

Rollups are snapshots: ``scr.task`` dim ``<round id>:<status>`` (dwellings),
``scr.households`` dim ``<round id>:reached|unreached`` (households of those dwellings),
``scr.followup`` dim ``<campaign id>:<rule>:<open|done>``.

Followed between rebuilds: ``task_cells`` gives a task's cells from a ``TaskState`` — of tasks
read by id (``cells(tasks=ids)``), or as a visit sync describes them before and after its
write (``cells(task_states=...)``, no query; ``dashboards/signals.py``).
"""

from __future__ import annotations

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from ..registry import Indicator, Provider, register

TASK = "scr.task"
HOUSEHOLDS = "scr.households"
FOLLOWUP = "scr.followup"
ROUNDS_SHOWN = 6


def available() -> bool:
    try:
        from shequ.campaigns.models import FollowUp, VisitTask  # noqa: F401
    except ImportError:
        return False
    return True


def _final():
    from shequ.campaigns.models import FINAL

    return {str(s) for s in FINAL}


def task_cells(states) -> dict:
    """The cells of visit tasks, each described by a ``campaigns.signals.TaskState``: the one
    definition of a task's contribution, for the tasks read by id and for the states a visit
    sync hands over (before and after its write). ``compute`` counts the same with GROUP BY.

    A cell's compound is the dwelling's code: ``rollups.apply`` finds the compound it lies in
    (no query here). The follow-ups counted are those the state lists: all of the task's
    (``read_states``), or only those a write adds (its "before" then lists none, and the
    others cancel out)."""
    final = _final()
    out: dict = {}

    def add(area, place, key, dim, n):
        cell = (area, place, None, key, dim)
        out[cell] = out.get(cell, 0) + n

    for s in states:
        area, place = s.area_code, s.dwelling_code or ""
        add(area, place, TASK, f"{s.round_id}:{s.status}", 1)
        reached = "reached" if s.status in final else "unreached"
        add(area, place, HOUSEHOLDS, f"{s.round_id}:{reached}", s.households or 0)
        for rule, status in s.followups:
            add(area, place, FOLLOWUP, f"{s.campaign_id}:{rule}:{status}", 1)
    return out


def read_states(ids) -> list:
    """``TaskState`` of these tasks as stored, with all their follow-ups (two queries)."""
    from shequ.campaigns.models import FollowUp, VisitTask
    from shequ.campaigns.signals import TaskState

    followups: dict[int, list] = {}
    for task_id, rule, status in (
        FollowUp.objects.filter(task_id__in=ids).order_by().values_list("task_id", "rule", "status")
    ):
        followups.setdefault(task_id, []).append((rule, status))
    return [
        TaskState(
            task_id=pk,
            area_code=area,
            dwelling_code=dwelling,
            round_id=round_id,
            campaign_id=campaign_id,
            status=status,
            households=households,
            followups=tuple(followups.get(pk, ())),
        )
        for pk, area, dwelling, round_id, campaign_id, status, households in (
            VisitTask.objects.filter(pk__in=ids)
            .order_by()
            .values_list(
                "pk",
                "area_code",
                "dwelling__code",
                "round_id",
                "round__campaign_id",
                "status",
                "households",
            )
        )
    ]


class ScreeningProvider(Provider):
    perm = "campaigns.view_campaign"

    def available(self) -> bool:
        return available()

    def compute(self, ctx):
        from shequ.campaigns.models import FollowUp, VisitTask

        from ..rollups import grouped

        final = _final()
        for area, compound, round_id, status, n, households in grouped(
            VisitTask.objects.all(),
            ["round_id", "status"],
            [Count("pk"), Sum("households")],
            place_field="dwelling__code",
            tree=ctx.tree,
        ):
            yield area, compound, None, TASK, f"{round_id}:{status}", n
            reached = "reached" if status in final else "unreached"
            yield area, compound, None, HOUSEHOLDS, f"{round_id}:{reached}", households or 0
        for area, compound, campaign, rule, status, n in grouped(
            FollowUp.objects.all(),
            ["campaign_id", "rule", "status"],
            Count("pk"),
            place_field="task__dwelling__code",
            tree=ctx.tree,
        ):
            yield area, compound, None, FOLLOWUP, f"{campaign}:{rule}:{status}", n

    def cells(self, as_of, tasks=(), task_states=()):
        """The contribution of dwelling tasks (their status, households and follow-ups):
        ``tasks`` by id, read here (two queries), or ``task_states`` as the campaigns write
        describes them (``campaigns.signals.TaskState``; no query). Both go through
        ``task_cells``."""
        states = list(task_states)
        ids = [t for t in tasks if t]
        if ids:
            states.extend(read_states(ids))
        return task_cells(states)

    def present(self, v, ctx):
        from shequ.campaigns.models import FollowUpRule, TaskStatus

        tasks = v.dims(TASK)
        if not tasks and not v.dims(FOLLOWUP):
            return {}
        small = ctx.small
        rounds: dict[int, dict[str, int]] = {}
        for dim, n in tasks.items():
            round_id, status = dim.split(":", 1)
            rounds.setdefault(int(round_id), {})[status] = n
        households = v.dims(HOUSEHOLDS)
        info = ctx.names.get("rounds", {})
        final = _final()
        rows, unreached_rows = [], []
        shown_ids = sorted(rounds, key=lambda r: info.get(r, {}).get("sort", (r,)))[-ROUNDS_SHOWN:]
        for round_id in shown_ids:
            counts = rounds[round_id]
            label = info.get(round_id, {}).get("label", str(round_id))
            visited = sum(counts.get(s, 0) for s in final if s != TaskStatus.REFUSED)
            rows.append(
                [
                    label,
                    visited,
                    counts.get(TaskStatus.NOT_HOME, 0),
                    counts.get(TaskStatus.REFUSED, 0),
                    counts.get(TaskStatus.PENDING, 0),
                ]
            )
            unreached_rows.append(
                [
                    label,
                    small(households.get(f"{round_id}:unreached", 0)),
                    small(households.get(f"{round_id}:reached", 0)),
                ]
            )
        latest = rounds[shown_ids[-1]] if shown_ids else {}
        total = sum(latest.values())
        settled = sum(latest.get(s, 0) for s in final)
        flagged: dict[str, list[int]] = {}
        for dim, n in v.dims(FOLLOWUP).items():
            _campaign, rule, status = dim.split(":", 2)
            slot = flagged.setdefault(rule, [0, 0])
            slot[0 if status == "open" else 1] += n
        return {
            "scr.coverage": {
                "value": round(100.0 * settled / total, 1) if total else None,
            },
            "scr.unreached": {
                "value": small(households.get(f"{shown_ids[-1]}:unreached", 0) if shown_ids else 0)
            },
            "scr.rounds": {
                "columns": [
                    str(_("Round")),
                    str(TaskStatus.VISITED.label),
                    str(TaskStatus.NOT_HOME.label),
                    str(TaskStatus.REFUSED.label),
                    str(_("Remaining")),
                ],
                "rows": rows,
            },
            "scr.households": {
                "columns": [str(_("Round")), str(_("Not reached")), str(_("Reached"))],
                "rows": unreached_rows,
            },
            "scr.flagged": {
                "columns": [str(_("Reason")), str(_("Open")), str(_("Done"))],
                "rows": [
                    [str(FollowUpRule(rule).label), small(o), small(d)]
                    for rule, (o, d) in sorted(flagged.items())
                    if rule in FollowUpRule.values
                ],
            },
        }

    def child_metrics(self, values, codes, ctx):
        final = _final()
        out = {}
        for c in codes:
            tasks = values[c].dims(TASK)
            if not tasks:
                out[c] = None
                continue
            latest = max(int(d.split(":", 1)[0]) for d in tasks)
            mine = {d.split(":", 1)[1]: n for d, n in tasks.items() if d.startswith(f"{latest}:")}
            total = sum(mine.values())
            out[c] = round(100.0 * sum(mine.get(s, 0) for s in final) / total, 1) if total else None
        return {"scr.coverage": out} if any(v is not None for v in out.values()) else {}


register(
    ScreeningProvider(
        module="screening",
        label=_("Screening"),
        keys=(TASK, HOUSEHOLDS, FOLLOWUP),
        snapshot_keys=(TASK, HOUSEHOLDS, FOLLOWUP),
        tracks=("tasks", "task_states"),
        indicators=[
            Indicator(
                "scr.coverage",
                _("Screening coverage (%)"),
                _(
                    "Of the dwellings of the latest round here, the share settled: visited, "
                    "refused, empty or new residents found. Nobody home is not settled."
                ),
                chart="rate",
                choropleth=True,
            ),
            Indicator(
                "scr.unreached",
                _("Households not reached"),
                _("Households in the dwellings of the latest round that have no outcome yet."),
                personal=True,
            ),
            Indicator(
                "scr.rounds",
                _("Coverage per round"),
                _(
                    "Dwellings of each round of the campaigns covering this area: visited (new "
                    "residents found and empty dwellings included), nobody home, refused, not "
                    "yet reached."
                ),
                chart="table",
            ),
            Indicator(
                "scr.households",
                _("Households reached per round"),
                _("Households in the dwellings reached and not reached, per round."),
                chart="table",
                personal=True,
            ),
            Indicator(
                "scr.flagged",
                _("Flagged for follow-up"),
                _(
                    "Follow-ups raised by visits (fever, travel, elderly living alone, "
                    "disability needing help), open and done."
                ),
                chart="table",
                personal=True,
            ),
        ],
    )
)
