"""The paste form: one textarea, parsed by tasks_app.ids."""

from django import forms
from django.conf import settings
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from tasks_app.gallery.selectors import ArchiveFilters
from tasks_app.ids import ParsedIds, parse_ids
from tasks_app.organize.selectors import Facets
from tasks_app.relay import Status

ARCHIVE_ACTIONS = [
    "IMAGINE",
    "UPSCALE",
    "VARIATION",
    "REROLL",
    "ZOOM",
    "PAN",
    "DESCRIBE",
    "BLEND",
    "CUSTOM_ZOOM",
]


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


class ArchiveFilterForm(forms.Form):
    """The archive's filters, read from the URL (a filtered view is a link too)."""

    q = forms.CharField(label=_("Search prompts"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    submitted_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("Submitted to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    starred = forms.BooleanField(label=_("Starred by me"), required=False)
    tag = forms.CharField(label=_("Tag"), max_length=40, required=False, widget=forms.Select)
    set = forms.SlugField(label=_("Set"), max_length=16, required=False, widget=forms.Select)
    pressed_by = forms.CharField(label=_("Pressed by"), max_length=150, required=False, widget=forms.Select)

    def __init__(self, *args, facets: Facets | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        any_choice = [("", _("any"))]
        self.fields["status"].choices = any_choice + list(Status.choices)
        self.fields["action"].choices = any_choice + [(a, a) for a in ARCHIVE_ACTIONS]
        facets = self.facets = facets or Facets()
        # Each choice says how many tasks it holds; a value from a link that is not
        # among them (a teammate's set, a tag no task has now) stays chosen.
        self.fields["starred"].label = _("Starred by me (%(n)d)") % {"n": facets.starred}
        counted = "%s (%d)"
        self._choices("tag", [(name, counted % (name, n)) for name, n in facets.tags])
        self._choices("pressed_by", [(name, counted % (name, n)) for name, n in facets.people])
        self._choices(
            "set", [(slug, counted % (Truncator(title).chars(40), n)) for slug, title, n in facets.sets]
        )

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        current = self.data.get(name, "") if self.is_bound else ""
        if current and current not in {value for value, _label in choices}:
            choices = [*choices, (current, current)]
        self.fields[name].widget.choices = [("", _("any")), *choices]

    def filters(self) -> ArchiveFilters:
        # The fields that are valid filter; one bad value (a mistyped date) drops only itself.
        self.is_valid()
        data = self.cleaned_data
        return ArchiveFilters(
            status=data.get("status") or "",
            action=data.get("action") or "",
            submitted_from=data.get("submitted_from"),
            submitted_to=data.get("submitted_to"),
            set_slug=data.get("set") or "",
            pressed_by=data.get("pressed_by") or "",
            q=data.get("q") or "",
            starred=bool(data.get("starred")),
            tag=data.get("tag") or "",
        )
