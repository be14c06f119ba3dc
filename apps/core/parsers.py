"""Request body parsers. A module of its own: DRF imports it while building ``APIView``, so it
must not import anything that imports DRF's views (as ``apps.core.api`` does)."""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers

# No body this API takes nests deeper than a few levels; a hostile one can nest 100,000 deep.
MAX_DEPTH = 32


def _depth(data: Any) -> int:
    """How deeply lists and objects nest in ``data`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((item, depth) for item in value)
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than :data:`MAX_DEPTH` (which would
    otherwise end in a RecursionError) and lone surrogates (``"\\ud800"``). Those are valid
    JSON escapes but no UTF-8 text can hold them: echoing one in an error message, or saving it,
    would fail with a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("提交的内容嵌套层数过多。"), code="too_deep") from None
        if _depth(data) > MAX_DEPTH:
            raise exceptions.ParseError(_("提交的内容嵌套层数过多。"), code="too_deep")
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError(_("提交的内容含有无效字符。")) from None
        return data
