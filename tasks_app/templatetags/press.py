"""Template filter for the buttons: may this person press them (each press costs money)."""

from django import template

from tasks_app.buttons.permissions import user_can_press

register = template.Library()


@register.filter
def can_press(user) -> bool:
    return user_can_press(user) if user is not None else False


@register.filter
def button_selector(button, task) -> str:
    """A CSS selector for this button of this task wherever a page shows it (its
    value is short, so it is found inside the task's own form)."""

    def quoted(text: str) -> str:
        # A CSS string; a comma escaped too, as htmx splits its selectors on commas.
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace(",", "\\2c ")
        return f'"{escaped}"'

    return f"form[action={quoted(task.url + 'action')}] button[name=custom_id][value={quoted(button.value)}]"
