"""The migrations that add 服务热线 and the volunteer's phone consent leave every existing row
without a hotline of its own and without consent: nobody's number is shown that nobody entered
or agreed to."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.organisation.models import OrgNode
from apps.volunteers.models import VolunteerProfile

BEFORE = [
    ("organisation", "0003_servicecategory_default_dispatch_mode_and_more"),
    ("volunteers", "0004_matchablevolunteer"),
]
ADDED = [("organisation", "0004_orgnode_hotline"), ("volunteers", "0005_share_phone_with_residents")]


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


@pytest.mark.django_db(transaction=True)
def test_existing_nodes_get_no_hotline_and_existing_volunteers_share_no_phone(cast, org) -> None:
    nodes = set(OrgNode.objects.values_list("id", flat=True))
    volunteers = {cast.volunteer.id, cast.other_volunteer.id}
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert "hotline" not in _columns(OrgNode._meta.db_table)
    assert "share_phone_with_residents" not in _columns(VolunteerProfile._meta.db_table)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert all(migration in applied for migration in ADDED)

    assert dict(OrgNode.objects.values_list("id", "hotline")) == dict.fromkeys(nodes, "")
    assert dict(VolunteerProfile.objects.values_list("id", "share_phone_with_residents")) == dict.fromkeys(
        volunteers, False
    )
