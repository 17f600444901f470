"""An OpenAI-compatible HTTP client: ``POST BASE/v1/completions``, async, bounded, retried.

For a model served elsewhere (``vllm serve``, SGLang, TGI, a hosted endpoint). The stage's whole batch is
sent at once with at most ``concurrency`` requests in flight; a request that times out, loses its
connection or gets 429 / 5xx is retried after ``backoff_s * 2**attempt`` seconds plus jitter, up to
``retries`` times; a 4xx other than 429 is the request's fault and fails at once with the server's message.
Each request carries its seed, which vLLM servers honour, so outputs are reproducible there too.
"""

from __future__ import annotations

import asyncio
import os
import random

from curate.synth.engines import EngineSpec, Generation, SamplingSpec

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ServerError(RuntimeError):
    """The server refused a request for good (after retries, or a client error)."""


class HTTPEngine:
    """Synchronous facade over an asyncio/aiohttp client, so stages call it like the other engines."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.url = spec.base_url.rstrip("/") + "/v1/completions"
        self.headers = {"Content-Type": "application/json"}
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise RuntimeError(f"engine.api_key_env names {spec.api_key_env!r}, which is not set in the environment")
            self.headers["Authorization"] = f"Bearer {key}"
        self._jitter = random.Random(0)

    def generate(self, prompts: list[str], seeds: list[int], sampling: SamplingSpec) -> list[Generation]:
        if not prompts:
            return []
        return asyncio.run(self._all(prompts, seeds, sampling))

    async def _all(self, prompts: list[str], seeds: list[int], sampling: SamplingSpec) -> list[Generation]:
        import aiohttp

        limit = asyncio.Semaphore(self.spec.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.spec.timeout_s)
        connector = aiohttp.TCPConnector(limit=self.spec.concurrency)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=self.headers) as session:
            tasks = [self._one(session, limit, p, s, sampling, i) for i, (p, s) in enumerate(zip(prompts, seeds))]
            return list(await asyncio.gather(*tasks))

    def _body(self, prompt: str, seed: int, sampling: SamplingSpec) -> dict:
        body = {
            "model": self.spec.model,
            "prompt": prompt,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": int(seed),
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        return body

    async def _one(self, session, limit: asyncio.Semaphore, prompt: str, seed: int, sampling: SamplingSpec, index: int) -> Generation:
        import aiohttp

        body = self._body(prompt, seed, sampling)
        last = "no attempt made"
        for attempt in range(self.spec.retries + 1):
            if attempt:
                delay = self.spec.backoff_s * (2 ** (attempt - 1))
                await asyncio.sleep(delay * (1 + 0.25 * self._jitter.random()))
            try:
                async with limit, session.post(self.url, json=body) as resp:
                    if resp.status == 200:
                        data = await resp.json()
                        return _parse(data, index, self.url)
                    text = (await resp.text())[:300]
                    if resp.status not in _RETRY_STATUS:
                        raise ServerError(f"{self.url}: request {index} refused with HTTP {resp.status}: {text}")
                    last = f"HTTP {resp.status}: {text}"
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
        raise ServerError(
            f"{self.url}: request {index} failed after {self.spec.retries + 1} attempts ({last}); "
            "check that the server is up, or raise engine.timeout_s / engine.retries"
        )

    def max_context(self) -> int:
        from curate.synth.engines import model_context

        if self.spec.max_model_len:
            return self.spec.max_model_len
        return model_context(self.spec.tokenizer or self.spec.model)

    def close(self) -> None:
        """Nothing to free: each generate call opens and closes its own session."""


def _parse(data: dict, index: int, url: str) -> Generation:
    try:
        choice = data["choices"][0]
        text = choice["text"]
        finish = choice.get("finish_reason") or "stop"
        usage = data.get("usage") or {}
        tokens = int(usage.get("completion_tokens", 0))
    except (KeyError, IndexError, TypeError) as exc:
        raise ServerError(f"{url}: answer to request {index} is not an OpenAI completion: {str(data)[:300]}") from exc
    return Generation(text, tokens, "length" if finish == "length" else "stop")
