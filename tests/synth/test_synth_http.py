"""The OpenAI-compatible client against a real vLLM api_server on 127.0.0.1 (started and stopped here)."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from curate.synth.engines import EngineSpec, SamplingSpec
from curate.synth.http_engine import HTTPEngine, ServerError
from tests.synth.synth_markers import needs_vllm

READY_S = 420


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_fails_after_retries_with_a_clear_error():
    spec = EngineSpec(kind="http", model="m", base_url=f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.01, timeout_s=2)
    start = time.monotonic()
    with pytest.raises(ServerError, match="failed after 3 attempts"):
        HTTPEngine(spec).generate(["hello"], [1], SamplingSpec(max_tokens=4))
    assert time.monotonic() - start < 10


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", tiny_model, "--served-model-name", "tiny",
           "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32", "--max-model-len", "1024",
           "--kv-cache-memory-bytes", str(256 << 20), "--enforce-eager", "--seed", "0"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"api_server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"api_server not ready after {READY_S}s:\n{log.read_text()[-3000:]}")
                time.sleep(2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@needs_vllm
@pytest.mark.slow
def test_client_generates_concurrently_and_reproducibly(server):
    engine = HTTPEngine(EngineSpec(kind="http", model="tiny", base_url=server, concurrency=4, timeout_s=60))
    sampling = SamplingSpec(temperature=0.9, max_tokens=16)
    prompts = [f"Passage:\nItem {i} is stored.\n\nQuestion:" for i in range(10)]
    seeds = list(range(100, 110))
    first = engine.generate(prompts, seeds, sampling)
    assert len(first) == 10 and all(0 < g.tokens <= 16 for g in first)
    assert engine.generate(prompts, seeds, sampling) == first


@needs_vllm
@pytest.mark.slow
def test_client_error_is_not_retried(server):
    engine = HTTPEngine(EngineSpec(kind="http", model="no-such-model", base_url=server, retries=3, backoff_s=5))
    start = time.monotonic()
    with pytest.raises(ServerError, match="refused with HTTP 404"):
        engine.generate(["x"], [1], SamplingSpec(max_tokens=4))
    assert time.monotonic() - start < 5
