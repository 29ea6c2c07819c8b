"""Template helpers of the Create page's results: the numbered prompts of a DESCRIBE or SHORTEN."""

from django import template

from tasks_app.create.results import RESULT_ACTIONS, result_prompts

register = template.Library()


@register.filter(name="result_prompts")
def result_prompts_filter(task) -> list[str]:
    """The four (DESCRIBE) or five (SHORTEN) prompts of a finished task; [] for any other."""
    if task is None or getattr(task, "action", "") not in RESULT_ACTIONS:
        return []  # without reading anything more of the task (a card's properties are deferred)
    return result_prompts(task)
