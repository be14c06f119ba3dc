"""The village picker widget (see ``forms.VillageField``).

Rendered by the server as a plain ``<select>`` of villages grouped by township (``<optgroup>``)
that works without JavaScript, plus a township select and a search box kept ``hidden`` until
``static/js/place-picker.js`` takes them into use. The template links its own stylesheet and
script, so a page needs nothing else: ``{{ form.village }}`` or ``includes/form.html`` is enough.
"""

from typing import Any

from django import forms


class VillagePicker(forms.Select):
    template_name = "widgets/village_picker.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        townships = []
        for group_name, options, _index in widget["optgroups"]:
            if not group_name:  # the empty choice ("请选择村/社区") is not a township
                continue
            selected = any(option["selected"] for option in options)
            townships.append({"name": group_name, "selected": selected})
        widget["townships"] = townships
        widget["picker_id"] = widget["attrs"].get("id") or f"id_{name}"
        return context
