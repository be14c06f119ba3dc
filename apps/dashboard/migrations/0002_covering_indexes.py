"""PostgreSQL only: the indexes a township's or a station's KPIs read without visiting the table.

A township's year of facts is spread over the whole year's pages; with every column the KPIs read
in the (township, day) and (village, day) indexes, each statement is an index-only scan of that
township's rows (measured on 1,000,000 requests: a township's one-year KPIs from 606 to 150 ms at
p95, bench/dashboard.py). The offers' partial index answers "who served these requests" the same
way. SQLite has no INCLUDE; its indexes stay as the model declares them."""

from django.db import migrations

FACT_COLUMNS = (
    "request_id, category_id, status, reason_code, completed_at, hours, score, tag_bits, "
    "review_seconds, offer_seconds, accept_seconds, complete_seconds"
)
FORWARD = [
    "DROP INDEX IF EXISTS fact_township_day",
    f"CREATE INDEX fact_township_day ON dashboard_requestfact (township_id, day) INCLUDE (village_id, {FACT_COLUMNS})",
    "DROP INDEX IF EXISTS fact_village_day",
    f"CREATE INDEX fact_village_day ON dashboard_requestfact (village_id, day) INCLUDE (township_id, {FACT_COLUMNS})",
    "CREATE INDEX IF NOT EXISTS offer_request_completed ON dispatch_offer (request_id) INCLUDE (volunteer_id)"
    " WHERE status = 'completed'",
]
BACKWARD = [
    "DROP INDEX IF EXISTS offer_request_completed",
    "DROP INDEX IF EXISTS fact_village_day",
    "CREATE INDEX fact_village_day ON dashboard_requestfact (village_id, day)",
    "DROP INDEX IF EXISTS fact_township_day",
    "CREATE INDEX fact_township_day ON dashboard_requestfact (township_id, day)",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("dispatch", "0005_offer_volunteer_holding"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
