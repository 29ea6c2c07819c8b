"""axe-core (tests/vendor/axe-core, MPL-2.0, unmodified) run in a Playwright page."""

import os
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")
RUN = """async () => (await axe.run(document)).violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
  nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 8),
}))"""


def axe_violations(page, *, severe_only=None):
    """Run axe on the page as it is now; return its violations (serious or critical by default)."""
    if severe_only is None:  # MJ_AXE_ALL=1 lists every impact (for counting)
        severe_only = not os.environ.get("MJ_AXE_ALL")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(RUN)
    if severe_only:
        result = [v for v in result if v["impact"] in SEVERE]
    return result


def describe(violations):
    return "\n".join(f"{v['impact']} {v['id']} x{v['count']}: {v['help']} {v['nodes']}" for v in violations)
