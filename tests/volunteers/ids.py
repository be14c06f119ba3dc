"""Valid identity numbers for tests, with the GB 11643 check character computed here, apart
from the code under test."""

from datetime import date

from django.utils import timezone

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def resident_id(born: date, *, sequence: str = "123", region: str = "130681") -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + check_char(first17)


def years_ago(years: int, *, days: int = 0) -> date:
    """The birth date of someone who turns ``years`` today minus ``days`` (days > 0: a bit older)."""
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born.fromordinal(born.toordinal() - days)


def with_x_check(born_year: int = 1990) -> str:
    """A valid number whose check character is X."""
    for seq in range(100, 1000):
        first17 = f"130681{born_year}0101{seq}"
        if check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence gives X")
