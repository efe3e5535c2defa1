# The README's two commands: `make run` and `make test`. Both set up what is missing first.
.PHONY: run test bootstrap stop lint compose-check

ARGS ?=

run:
	scripts/bootstrap.sh run
	scripts/run.sh

test:
	scripts/bootstrap.sh test
	scripts/test.sh $(ARGS)

# Stop the test PostgreSQL and Redis (left running by `make test KEEP_SERVICES=1`).
stop:
	scripts/test.sh stop

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

compose-check:
	SECRET_KEY=check LEDGER_SIGNING_KEY=check docker-compose config -q
