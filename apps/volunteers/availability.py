"""Weekly availability as people choose it (a 7 × 3 grid of checkboxes, or codes in the API) and
as it is stored (the bit mask of :func:`apps.volunteers.models.availability_bit`)."""

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .models import DAYS, SLOTS, availability_bit

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_CODES = ("morning", "afternoon", "evening")


def slot_code(day: int, slot: int) -> str:
    return f"{DAY_CODES[day]}_{SLOT_CODES[slot]}"


# ``mon_morning`` … ``sun_evening``, Monday first, in the order of the bits.
CODES: tuple[str, ...] = tuple(slot_code(d, s) for d in range(len(DAYS)) for s in range(len(SLOTS)))
_BIT_OF = {slot_code(d, s): availability_bit(d, s) for d in range(len(DAYS)) for s in range(len(SLOTS))}


def choices() -> list[tuple[str, str]]:
    """(code, "周一上午") for every slot of the week, translated when read."""
    return [
        (slot_code(d, s), _("%(day)s%(slot)s") % {"day": DAYS[d], "slot": SLOTS[s]})
        for d in range(len(DAYS))
        for s in range(len(SLOTS))
    ]


def mask_from_codes(codes: Iterable[str]) -> int:
    """The bit mask of the chosen slots; unknown codes raise KeyError (forms and serializers
    offer only :data:`CODES`)."""
    mask = 0
    for code in codes:
        mask |= _BIT_OF[code]
    return mask


def codes_from_mask(mask: int) -> list[str]:
    return [code for code in CODES if mask & _BIT_OF[code]]


def grid(mask: int) -> list[tuple[Promise, list[tuple[str, Promise, bool]]]]:
    """For a page: one row per day, each with (code, slot label, chosen) for its three slots."""
    return [
        (DAYS[d], [(slot_code(d, s), SLOTS[s], bool(mask & availability_bit(d, s))) for s in range(len(SLOTS))])
        for d in range(len(DAYS))
    ]
