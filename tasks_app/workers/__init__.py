"""The background workers: one resilient worker process (`manage.py worker`), the
supervisor that starts and restarts them (`manage.py workers`, `make run`,
`make prod`), and the heartbeat that makes them visible (/readyz, the admin)."""
