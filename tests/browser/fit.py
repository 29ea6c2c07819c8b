"""Does a page fit its viewport, every text readable where it is? For the browser tests."""

# Every piece of text on the page, and every form field, that a person cannot
# read whole where it is: text sticking out of the viewport, or cut off by a
# box that clips it (overflow hidden), unless it is inside a box that scrolls
# (overflow auto/scroll) and that box itself fits. Returned as short
# descriptions, empty when all is readable.
UNREADABLE = """
(limit) => {
  const found = [];
  const describe = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes.map((c) => "." + c).join("");
  };
  const overflow = (el) => getComputedStyle(el).overflowX;
  // A rect of `owner`'s (its own box, or a line of a text it holds: `from` is then the owner itself).
  const check = (owner, from, rect) => {
    if (rect.width === 0 && rect.height === 0) return;
    for (let box = from; box && box !== document.documentElement; box = box.parentElement) {
      const outer = box.getBoundingClientRect();
      if (["auto", "scroll"].includes(overflow(box))) {
        if (outer.right > limit + 0.5 || outer.left < -0.5) {
          found.push(describe(box) + " (a scroll box) is wider than the page");
        }
        return;  // inside a box that scrolls: read by scrolling it
      }
      const cut = rect.right > outer.right + 0.5 || rect.left < outer.left - 0.5;
      if (["hidden", "clip"].includes(overflow(box)) && cut) {
        found.push(describe(owner) + " is cut off by " + describe(box));
        return;
      }
    }
    if (rect.right > limit + 0.5 || rect.left < -0.5) found.push(describe(owner) + " sticks out of the page");
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const owner = node.parentElement;
    if (!node.textContent.trim() || owner.closest(".visually-hidden")) continue;
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) check(owner, owner, rect);
  }
  for (const el of document.querySelectorAll("input, textarea, select, button, pre, summary")) {
    if (el.closest(".visually-hidden")) continue;
    for (const rect of el.getClientRects()) check(el, el.parentElement, rect);
  }
  return [...new Set(found)].slice(0, 20);
}
"""


def misfits(page, width: int) -> list[str]:
    """What does not fit `width` px: the page's own width, when wider, and every unreadable text."""
    page_width = page.evaluate("document.documentElement.scrollWidth")
    wider = [f"the page is {page_width} px wide"] if page_width > width else []
    return wider + page.evaluate(UNREADABLE, width)
