"""Template filter for the buttons: may this person press them (each press costs money)."""

from django import template

from tasks_app.buttons.permissions import user_can_press

register = template.Library()


@register.filter
def can_press(user) -> bool:
    return user_can_press(user) if user is not None else False
