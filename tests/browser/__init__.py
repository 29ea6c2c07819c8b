"""Browser tests: Playwright driving Debian's Chromium."""

# The two viewports every page is looked at in: a desktop and a phone.
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
