"""A fake Midjourney proxy served over real HTTP on loopback, for tests and demo mode.

Plain Python (no Django needed): `Simulator(api_key=..., seed=True).start()`.
"""

from .core import Simulator

__all__ = ["Simulator"]
