"""One normaliser for what people type, used by forms, serializers and services alike.

Text is cleaned before any "required" or length check, so that a field holding only invisible
characters (a zero-width space, a stray control character) counts as empty. Free text is put in
NFC, not NFKC: NFKC would turn the full-width punctuation of Chinese prose (，：（）) into ASCII.
Numbers people type (phones, ids) are put in NFKC, so full-width digits become ASCII digits."""

import unicodedata

# Line breaks and tabs are kept in multi-line text; every other control character goes.
_KEPT_IN_MULTILINE = {"\n", "\t"}


def _invisible(char: str, *, multiline: bool) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":  # format characters: zero-width space and joiners, BOM, soft hyphen …
        return True
    if category == "Cc":  # control characters, NUL included
        return not (multiline and char in _KEPT_IN_MULTILINE)
    return False


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC, without invisible and control characters, trimmed; in single-line text every run of
    whitespace becomes one space."""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = "".join(char for char in value if not _invisible(char, multiline=multiline))
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def clean_number(value: str) -> str:
    """NFKC (full-width digits and signs become ASCII), without invisible characters or spaces."""
    value = unicodedata.normalize("NFKC", value)
    return "".join(char for char in value if not _invisible(char, multiline=False) and not char.isspace())
