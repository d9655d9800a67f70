import django_filters

from shequ.core.api.filters import IntegerFilter, OrderingFilter, UnderFilter

from ..models import Campaign, FollowUp, FollowUpRule, Outcome, TaskStatus, Visit, VisitTask


class CampaignFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    ordering = OrderingFilter(fields=("id", "created_at", "area_code"))

    class Meta:
        model = Campaign
        fields = ["under"]


class VisitTaskFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    campaign = IntegerFilter(field_name="round__campaign_id")
    round = IntegerFilter(field_name="round__number")
    team = IntegerFilter(field_name="team_id")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)
    ordering = OrderingFilter(fields=("id", "route_order", "area_code", "last_visit_at"))

    class Meta:
        model = VisitTask
        fields = ["under", "campaign", "round", "team", "status"]


class VisitFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    campaign = IntegerFilter(field_name="round__campaign_id")
    round = IntegerFilter(field_name="round__number")
    task = IntegerFilter(field_name="task_id")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    ordering = OrderingFilter(fields=("id", "visited_at", "received_at"))

    class Meta:
        model = Visit
        fields = ["under", "campaign", "round", "task", "outcome"]


class FollowUpFilterSet(django_filters.FilterSet):
    under = UnderFilter()
    campaign = IntegerFilter(field_name="campaign_id")
    rule = django_filters.ChoiceFilter(choices=FollowUpRule.choices)
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices)
    ordering = OrderingFilter(fields=("id", "due", "created_at"))

    class Meta:
        model = FollowUp
        fields = ["under", "campaign", "rule", "status"]
