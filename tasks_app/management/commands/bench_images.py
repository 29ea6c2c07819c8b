"""Measure the image pipeline on the simulator's 2048x2048 grid PNG and print figures
(row 6 of `manage.py bench`, in more detail). Loopback only; prints, never asserts."""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand

from tasks_app.bench import images


class Command(BaseCommand):
    help = "Benchmark thumbnail size, build time, memory and serving speed (prints figures)."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=7, help="timed rounds, best kept (default 7)")
        parser.add_argument("--seconds", type=float, default=3.0, help="serving run per URL (default 3 s)")
        parser.add_argument("--no-http", action="store_true", help="skip the gunicorn/whitenoise comparison")
        parser.add_argument("--prepare", help=argparse.SUPPRESS)
        parser.add_argument("--memory-of", help=argparse.SUPPRESS)

    def handle(self, *args, rounds, seconds, no_http, prepare, memory_of, **options):
        if prepare:
            return images.prepare(Path(prepare))
        if memory_of:
            return images.memory_child(Path(memory_of))
        f = images.measure(rounds=rounds, seconds=seconds, http_too=not no_http)
        out = self.stdout.write
        share = 100 * f["thumb_bytes"] / f["original_bytes"]
        out(f"original PNG           {f['original_bytes']:>10,} bytes  2048x2048")
        out(
            f"thumbnail WebP         {f['thumb_bytes']:>10,} bytes  "
            f"{f['thumb_dims'][0]}x{f['thumb_dims'][1]}  ({share:.2f}% of the original)"
        )
        out(f"placeholder data URI   {f['preview_bytes']:>10,} bytes")
        out(f"plain decode           {f['decode'] * 1000:>10.1f} ms (best of {rounds})")
        out(f"thumbnail build        {f['build'] * 1000:>10.1f} ms  = {f['build'] / f['decode']:.2f}x decode")
        out(
            f"large WebP (detail)    {f['large_bytes']:>10,} bytes  "
            f"({100 * f['large_bytes'] / f['original_bytes']:.1f}% of the original), "
            f"built in {f['large_build'] * 1000:.1f} ms by the worker"
        )
        out(
            f"peak memory of a build {f['build_rss'] / 2**20:>10.1f} MB RSS growth; "
            f"{f['build_heap'] / 1024:.0f} KB Python heap"
        )
        if "thumb_rate" in f:
            out(f"archive thumbnail      {f['thumb_rate']:>10.0f} req/s (HTTP {f['thumb_status']})")
            out(f"static file            {f['static_rate']:>10.0f} req/s (HTTP {f['static_status']})")
            out(f"archive / static       {f['thumb_rate'] / f['static_rate']:>10.2f}x")
