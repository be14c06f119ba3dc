"""Benchmark on PostgreSQL: importing a 50,000-row volunteer roster from Excel, end to end.

    .venv/bin/python bench/import_roster.py                  # about two minutes on 2 cores
    .venv/bin/python bench/import_roster.py --rows 10000 --baseline-rows 500

It creates its own database (``zc_bench_roster``, or BENCH_DB_NAME) on the server of
BENCH_POSTGRES_URL (see ``benchkit.bench_database``), loads the real division list, practice
network and service categories (``load_places``), writes a ``--rows`` workbook of distinct
adults spread over all 450 villages (valid ID numbers, phones, one or two categories, skills
on some rows, a few hundred bad rows), and then measures:

* **import** — end to end, as the upload page and the worker do it, in a child process of its
  own so that its peak memory is its own: ``import_job_create`` (the upload's checks and the
  stored job) and then ``roster_import_run``, the very function the Celery task
  ``roster.run_import`` calls, called directly in that process (no broker: the broker's part
  is one small message); the clock stops when the last batch and the job's DONE are
  committed. Peak memory is the child's peak resident set size (``getrusage``), Django
  included.
* **row by row** — the baseline: the same validation, then each accepted row written the way
  a naive import would, one ``save()`` at a time in its own transaction (user, profile,
  categories, event, number), on ``--baseline-rows`` other people (default 2,000), and
  extrapolated linearly to ``--rows``. The table says which figure is extrapolated.

Targets: the import within 60 s and 500 MB. Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchkit import PROJECT_ROOT, bench_database, print_table

TARGET_SECONDS = 60.0
TARGET_MB = 500.0
BAD_EVERY = 250  # one bad row in this many: a roster as people really send it


def _check_character(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def write_roster(path: Path, *, rows: int, first: int, seed: int) -> None:
    """``rows`` people numbered from ``first`` (so two rosters never share a person)."""
    from openpyxl import Workbook

    from apps.organisation.models import Place, ServiceCategory
    from apps.roster.columns import COLUMNS

    rng = random.Random(seed)
    villages = list(Place.objects.filter(kind=Place.Kind.VILLAGE).values_list("parent__name", "name"))
    categories = list(ServiceCategory.objects.values_list("name", flat=True))
    skills = ["助老陪护", "急救", "驾驶", "课业辅导", "摄影摄像"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([str(column.label) for column in COLUMNS])
    for n in range(first, first + rows):
        born = date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28))
        # The sequence digits repeat every 1,000 people; the birth date and region keep them apart.
        region = f"1306{(n // 1000) % 100:02d}"
        first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
        id_number = first17 + _check_character(first17)
        township, village = rng.choice(villages)
        row = [
            f"志愿者{n}",
            f"1{3 + n % 7}{n:09d}",
            "",
            id_number,
            township,
            village,
            "、".join(rng.sample(categories, 1 + rng.randrange(2))),
            "、".join(rng.sample(skills, rng.randrange(3))),
            "",
            "",
            "",
            "",
        ]
        if n % BAD_EVERY == 0:
            row[3] = id_number[:17] + ("1" if id_number[17] != "1" else "2")  # a wrong check character
        sheet.append(row)
    book.save(path)


def child_import(path: Path, uploader_id: int) -> dict[str, float | int]:
    """Run in a process of its own: upload checks + the task's function, timed."""
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.roster.services import import_job_create, roster_import_run

    uploader = User.objects.select_related("staff_node").get(id=uploader_id)
    data = path.read_bytes()
    started = time.perf_counter()
    job = import_job_create(uploader=uploader, file_name=path.name, data=data)
    roster_import_run(job_id=job.id)
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss
    return {
        "seconds": elapsed,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": peak_kb / 1024,
        "total": job.total or 0,
        "imported": job.imported,
        "errors": job.errors,
        "status": job.status,  # type: ignore[dict-item]
    }


def row_by_row(path: Path, uploader_id: int) -> dict[str, float | int]:
    """The baseline: the same validation, then one save() per object, a transaction per row."""
    from django.db import transaction

    from apps.accounts.areas import area_of
    from apps.accounts.models import User
    from apps.roster.reading import CleanRow, Lookups, RowValidator, iter_data_rows
    from apps.volunteers.models import ApplicationStatus, VolunteerEvent, VolunteerProfile
    from apps.volunteers.services import assign_volunteer_number

    uploader = User.objects.select_related("staff_node").get(id=uploader_id)
    started = time.perf_counter()
    validator = RowValidator(lookups=Lookups(), area=area_of(uploader))
    imported = rows = 0
    for raw in iter_data_rows(path.read_bytes()):
        rows += 1
        row = validator.validate(raw)
        if not isinstance(row, CleanRow):
            continue
        with transaction.atomic():
            if VolunteerProfile.objects.filter(id_digest=row.id_digest).exists():
                continue
            user = User(
                phone=row.phone,
                phone_digest=row.phone_digest,
                name=row.name,
                home_township_id=row.township_id,
                home_village_id=row.village_id,
            )
            user.set_unusable_password()
            user.save()
            profile = VolunteerProfile(
                user=user,
                status=ApplicationStatus.APPROVED,
                gender=row.gender,
                birth_date=row.birth_date,
                id_type=row.id_type,
                id_number=row.id_number,
                id_digest=row.id_digest,
                home_township_id=row.township_id,
                home_village_id=row.village_id,
                skills=list(row.skills),
                is_verified=True,
                verified_by_node_id=uploader.staff_node_id,
                reviewed_by=uploader,
            )
            profile.save()
            profile.categories.set(row.category_ids)
            VolunteerEvent.objects.create(volunteer=profile, kind=VolunteerEvent.Kind.IMPORTED, actor=uploader)
            assign_volunteer_number(profile)
            imported += 1
    return {"seconds": time.perf_counter() - started, "total": rows, "imported": imported}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with bench_database("zc_bench_roster") as database:
        from django.core.management import call_command

        from apps.accounts.models import User
        from apps.organisation.models import OrgNode

        call_command("load_places", verbosity=0)
        centre = OrgNode.objects.get(kind=OrgNode.Kind.CENTRE)
        uploader = User.objects.create_user(phone="13900000001", password=None, name="赵调度", staff_node=centre)

        roster = database.work / "roster.xlsx"
        baseline_roster = database.work / "baseline.xlsx"
        t = time.perf_counter()
        write_roster(roster, rows=args.rows, first=1, seed=1)
        write_roster(baseline_roster, rows=args.baseline_rows, first=args.rows + 1, seed=2)
        print(
            f"workbooks written in {time.perf_counter() - t:.1f} s: {roster.stat().st_size / 1e6:.1f} MB "
            f"({args.rows} rows), baseline {args.baseline_rows} rows",
            flush=True,
        )

        from django.db import connections

        connections.close_all()
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(roster), str(uploader.id)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(child.stdout, child.stderr, file=sys.stderr)
            return 1
        bulk = json.loads(child.stdout.strip().splitlines()[-1])
        base = row_by_row(baseline_roster, uploader.id)

    per_row_bulk = bulk["seconds"] / bulk["total"]
    per_row_base = base["seconds"] / base["total"]
    base_full = per_row_base * args.rows
    ok_time = bulk["seconds"] <= TARGET_SECONDS
    ok_memory = bulk["peak_mb"] <= TARGET_MB
    print()
    print_table(
        ["method", "rows", "imported", "wall s", "CPU s", "rows/s", "peak MB", "target"],
        [
            [
                "batched import (upload + task function)",
                str(bulk["total"]),
                str(bulk["imported"]),
                f"{bulk['seconds']:.1f}",
                f"{bulk['cpu_seconds']:.1f}",
                f"{1 / per_row_bulk:,.0f}",
                f"{bulk['peak_mb']:.0f}",
                f"<= {TARGET_SECONDS:.0f} s, <= {TARGET_MB:.0f} MB: {'met' if ok_time and ok_memory else 'MISSED'}",
            ],
            [
                "row-by-row save(), measured",
                str(base["total"]),
                str(base["imported"]),
                f"{base['seconds']:.1f}",
                "",
                f"{1 / per_row_base:,.0f}",
                "",
                "",
            ],
            [
                f"row-by-row save(), extrapolated to {args.rows}",
                str(args.rows),
                "",
                f"{base_full:.1f}",
                "",
                f"{1 / per_row_base:,.0f}",
                "",
                "",
            ],
        ],
    )
    print(
        f"\nbatched import / row-by-row (extrapolated from {base['total']} rows), per row: "
        f"{per_row_base / per_row_bulk:.1f}x faster"
    )
    print(
        f"the import's process used {bulk['cpu_seconds']:.1f} s of CPU (Django start-up included; "
        f"the database server's share is not in it) in "
        f"{bulk['seconds']:.1f} s; load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
    )
    print(f"status {bulk['status']}, {bulk['errors']} rows refused (one planted in every {BAD_EVERY})")
    return 0 if ok_time and ok_memory and bulk["status"] == "done" else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.path.insert(0, str(PROJECT_ROOT))
        print(json.dumps(child_import(Path(sys.argv[2]), int(sys.argv[3]))))
        sys.exit(0)
    sys.exit(main())
