from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.organisation.services import DIVISIONS_CSV, load_reference_data


class Command(BaseCommand):
    help = "Load Zhuozhou's divisions, the practice network (centre, offices, stations) and service categories."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", type=Path, default=DIVISIONS_CSV, help="divisions CSV (default: the bundled copy)")
        parser.add_argument(
            "--centre-hotline",
            default="",
            help="the centre's 服务热线, e.g. 0312-3862345; set only while the centre has none (the admin's wins)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_reference_data(csv_path=options["csv"], centre_hotline=options["centre_hotline"])
        except ValidationError as exc:
            raise CommandError(f"--centre-hotline: {' '.join(exc.messages)}") from None
        self.stdout.write(
            f"places: {result.townships} townships, {result.villages} villages; "
            f"stations: {result.stations}; categories: {result.categories}"
        )
