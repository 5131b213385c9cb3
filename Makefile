# Two commands on a fresh machine: `make run` and `make test`. Both create .venv on first use.
# On a Raspberry Pi the venv sees the system site-packages, where apt's picamera2/libcamera live.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
IS_PI  := $(shell grep -qs "Raspberry Pi" /proc/device-tree/model && echo 1)
EXTRAS := dev$(if $(IS_PI),$(comma)pi)
comma  := ,
VENV_FLAGS := $(if $(IS_PI),--system-site-packages)
SIMULATE := $(if $(IS_PI),,--simulate --windowed)

export SDL_AUDIODRIVER ?= dummy

.PHONY: run test lint typecheck pytest bench config venv clean pi-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

## run: the station; on a machine that is not a Pi, in a window with the simulated jumper
run: $(STAMP)
	$(BIN)/station -v run $(SIMULATE)

## test: ruff, mypy and pytest (what CI runs)
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check station tests
	$(BIN)/ruff format --check station tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	SDL_VIDEODRIVER=dummy $(BIN)/pytest -q $(PYTEST_ARGS)

## bench: every room's benchmarks; figures to bench-results/bench.json
bench: $(STAMP)
	SDL_VIDEODRIVER=dummy $(BIN)/station bench

## config: regenerate config/station.toml from the schema
config: $(STAMP)
	$(BIN)/station config defaults > config/station.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench-results

## pi-check: the Raspberry Pi install proven on emulated arm64 Debian roots (root; see README)
pi-check: $(STAMP)
	$(BIN)/python -m station.deploy.pi_check $(PI_CHECK_ARGS)
