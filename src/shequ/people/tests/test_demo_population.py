"""The demo city shows the population store: four noisy lists of the demo street, imported
by the data steward and linked into the residents the seed created."""

import pytest
from django.core.management import call_command

from shequ.core.models import User
from shequ.people.models import Batch, DecisionKind, LinkDecision, Person, RawRecord

pytestmark = pytest.mark.django_db


def test_seed_imports_four_noisy_lists_and_links_them_to_the_residents(client):
    call_command("seed", residents=1500, seed=1, verbosity=0)
    batches = Batch.objects.select_related("source", "created_by")
    assert sorted(b.source.code for b in batches) == [
        "clinic",
        "police_hukou",
        "property_mgmt",
        "visit_forms",
    ]
    assert {b.created_by.username for b in batches} == {"steward"}
    records = RawRecord.objects.all()
    assert records.count() > 500
    assert not records.filter(person__isnull=True).exists()
    # Most records found the resident the seed had created (not a new person of their own).
    new_persons = Person.objects.filter(pk__in=records.values("person_id")).exclude(
        field_sources__id_number__source="register"
    )
    held = records.values("person_id").distinct().count()
    assert held > 200 and new_persons.count() < held * 0.15
    # Every record of the street's noisy lists stays with its provenance.
    rec = records.filter(source__code="visit_forms").first()
    assert rec.batch.file_name == "visit_forms.csv" and rec.row >= 2 and rec.raw["form_id"]
    # Links explain themselves: the weight and the comparisons behind it.
    auto = LinkDecision.objects.filter(kind=DecisionKind.AUTO, record__isnull=False)
    assert auto.count() > 300
    d = auto.filter(match_weight__gt=0).first()
    assert {p["comparison"] for p in d.explanation["comparisons"]} >= {"name", "birth", "id"}
    # The person page shows the records and links to the steward.
    client.force_login(User.objects.get(username="steward"))
    page = client.get(f"/people/persons/{d.person_id}/").content.decode()
    assert d.record.record_id in page and 'id="links"' in page
