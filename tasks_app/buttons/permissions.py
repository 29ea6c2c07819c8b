"""Who may press a task's buttons: each press costs money at the relay."""

PERMISSION = "tasks_app.press_button"


def user_can_press(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.has_perm(PERMISSION)))
