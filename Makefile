# The two commands a newcomer needs: `make run` and `make test`.
PY := .venv/bin/python

.PHONY: run test setup lint format prod bench screenshots mutants

run:  ## the dashboard on http://127.0.0.1:8000, or $PORT (demo mode unless MJ_API_BASE is set)
	scripts/setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py serve

test:  ## the whole test suite, set-up included
	scripts/setup --test
	scripts/test

prod:  ## production mode here: migrations, collectstatic, gunicorn (needs MJ_API_BASE, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS)
	scripts/setup
	scripts/prod

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench:  ## the benchmark table of BENCHMARKS.md against the simulator (prints, never fails on a time)
	$(PY) manage.py bench

screenshots:  ## docs/screenshots/*.png (a set, a detail page, Create) from a real demo in Chromium (README)
	$(PY) scripts/screenshots

mutants:  ## plant each known bug, run the tests that guard it, put it back; a caught/not table (minutes; not in CI)
	$(PY) scripts/mutants
