from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.teams.seed import load_seed_teams


class Command(BaseCommand):
    help = "Create the 8 standing teams and the specialty teams under the centre (idempotent; after load_places)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_seed_teams()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"teams: {result.created} created, {result.existing} already there")
