"""The paste form: one textarea, parsed by tasks_app.ids."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tasks_app.ids import ParsedIds, parse_ids


class PasteForm(forms.Form):
    parsed: ParsedIds | None = None
    left_out: int = 0  # IDs past MJ_MAX_IDS, not taken

    ids = forms.CharField(
        label=_("Task IDs"),
        max_length=200_000,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": _(
                    "Paste task IDs: one per line, comma separated, a JSON array, "
                    "or any text that holds them (a curl command, a log line)"
                ),
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        error_messages={"required": _("Paste at least one task ID.")},
    )

    def clean_ids(self) -> ParsedIds:
        parsed = self.parsed = parse_ids(self.cleaned_data["ids"])
        limit = settings.MJ_MAX_IDS
        if not parsed.ids:
            raise forms.ValidationError(_("No task IDs found in what you pasted."), code="empty")
        if len(parsed.ids) > limit:
            # The first MJ_MAX_IDS are taken; the page says how many were left out.
            self.left_out = len(parsed.ids) - limit
            parsed.ids = parsed.ids[:limit]
        return parsed


class SetNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
