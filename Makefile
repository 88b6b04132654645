# torchcanvas: `make run` starts the app, `make test` runs the whole suite.
# Both run `make setup` first, which is idempotent and does everything a fresh
# clone needs: a virtual environment, the project with its dev extras, PyTorch,
# the front-end packages from the npm registry and a headless Chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= data

.PHONY: setup run test lint bench bench-gpu clean

setup: $(VENV)/.installed static/node_modules/.installed chromium

# The `ray` extra is installed too, so `make test` covers the Ray executor.
# The torch pair is pinned here, not in pyproject: these exact wheels install
# from this machine's disk, while pyproject keeps loose ranges for users.
$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[dev,onnx,ray]'
	touch $@

static/node_modules/.installed: static/package.json static/package-lock.json
	npm ci --prefix static --no-audit --no-fund
	touch $@

# Browser tests drive Debian's Chromium; install it when missing and we may.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v $${TORCHCANVAS_CHROMIUM:-/usr/bin/chromium} >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	    else echo "Chromium is missing: install Debian's 'chromium' package (browser tests need it)"; fi; }

run: setup
	$(BIN)/torchcanvas serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: setup
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check server tests benchmarks

bench: setup
	$(BIN)/python benchmarks/validate_speed.py
	$(BIN)/python benchmarks/first_step.py
	$(BIN)/python benchmarks/train_overhead.py
	$(BIN)/python benchmarks/http_validate.py
	$(BIN)/python benchmarks/ws_fanout.py
	$(BIN)/python benchmarks/chart_redraw.py
	$(BIN)/python benchmarks/sequence_training.py
	$(BIN)/python benchmarks/import_speed.py
	$(BIN)/python benchmarks/cost_speed.py
	$(BIN)/python benchmarks/epoch_snapshots.py
	$(BIN)/python benchmarks/reference_networks.py
	$(BIN)/python benchmarks/soak.py --minutes 10

# On a machine with a GPU: the trainer against the same loops hand-written for CUDA.
bench-gpu: setup
	$(BIN)/python benchmarks/train_overhead.py --device cuda

clean:
	rm -rf $(VENV) static/node_modules .pytest_cache
