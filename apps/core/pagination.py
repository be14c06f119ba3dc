from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView


class Pagination(PageNumberPagination):
    """``?page=`` from 1 (another number, or not a number, is a page that does not exist: 404)
    and ``?page_size=`` from 1 (a larger one is cut to 100; not a whole number from 1 is a 400,
    where DRF would quietly fall back to the default size). Either one empty is as if not given."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        size = request.query_params.get(self.page_size_query_param)
        if not size:
            return self.page_size
        digits = size.lstrip("0") if size.isascii() and size.isdigit() else ""
        if not digits:  # not a whole number, or 0
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("每页条数须为1到%(max)d之间的整数。") % {"max": self.max_page_size}]}
            )
        # Thousands of digits would be too many for int() itself.
        return self.max_page_size if len(digits) > 3 else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view: "APIView") -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            parameter["allowEmptyValue"] = True
        return parameters
