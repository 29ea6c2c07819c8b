"""`manage.py simulator`: run the fake proxy in the foreground for demos and manual tests."""

from __future__ import annotations

import threading

from django.core.management.base import BaseCommand

from tasks_app.simulator import Simulator


class Command(BaseCommand):
    help = "Serve a simulated Midjourney proxy (with sample tasks) until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--key", default="sim-key", help="API key clients must send")
        parser.add_argument("--no-seed", action="store_true", help="start without sample tasks")

    def handle(self, *args, host, port, key, no_seed, **options):
        sim = Simulator(api_key=key, seed=not no_seed, host=host, port=port).start()
        self.stdout.write(f"Simulator serving at {sim.base_url} (key: {key})")
        self.stdout.write(f"  MJ_API_BASE={sim.base_url} MJ_API_KEY={key}")
        if sim.sample_ids():
            self.stdout.write("Sample task IDs: " + ",".join(sim.sample_ids()))
        self.stdout.write("Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            sim.stop()
