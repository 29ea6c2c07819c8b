from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Midjourney tasks"

    def ready(self):
        from django.conf import settings
        from PIL import Image

        # Pillow's own decompression-bomb guard, set deliberately rather than left at
        # its default (89 M pixels: a warning, an error only past twice that): it
        # refuses what images/processing.py would refuse from the header anyway.
        Image.MAX_IMAGE_PIXELS = settings.MJ_IMAGE_MAX_PIXELS
