from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.organisation.services import DIVISIONS_CSV, load_reference_data


class Command(BaseCommand):
    help = "Load Zhuozhou's divisions, the practice network (centre, offices, stations) and service categories."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", type=Path, default=DIVISIONS_CSV, help="divisions CSV (default: the bundled copy)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_reference_data(csv_path=options["csv"])
        self.stdout.write(
            f"places: {result.townships} townships, {result.villages} villages; "
            f"stations: {result.stations}; categories: {result.categories}"
        )
