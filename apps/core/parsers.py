"""Request body parsers. A module of its own: DRF imports it while building ``APIView``, so it
must not import anything that imports DRF's views (as ``apps.core.api`` does)."""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing lone surrogates (``"\\ud800"``). They are valid JSON escapes
    but no UTF-8 text can hold them: echoing one in an error message, or saving it, would
    fail with a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError(_("提交的内容含有无效字符。")) from None
        return data
