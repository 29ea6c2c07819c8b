"""The relay simulator over real HTTP, without Django."""

KEY = "sim-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
