from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo.services import DEMO_PASSWORD, seed_demo, write_sample_roster


class Command(BaseCommand):
    help = "Create demo accounts for every role and a sample request (idempotent), and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.role:<32} {account.phone}  {account.name}  ({account.where})")
        roster = write_sample_roster(settings.DATA_DIR / "demo" / "sample_roster.xlsx")
        self.stdout.write(f"A roster to try 名册导入 (/s/roster/) with, two rows wrong on purpose: {roster}")
