import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.core.errors import InputError
from curate.io.files import find_parquet


def _write(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"text": ["x"]}), path)


def test_a_run_output_yields_its_data_never_its_rejected(tmp_path) -> None:
    for name in ("data/part-00001.parquet", "data/part-00000.parquet", "rejected/part-00000.parquet"):
        _write(tmp_path / "run" / name)
    assert find_parquet([str(tmp_path / "run")]) == [
        str(tmp_path / "run/data/part-00000.parquet"),
        str(tmp_path / "run/data/part-00001.parquet"),
    ]


def test_folders_globs_and_files_keep_pattern_order_without_repeats(tmp_path) -> None:
    _write(tmp_path / "a/x/1.parquet")
    _write(tmp_path / "b/2.parquet")
    found = find_parquet([str(tmp_path / "b/*.parquet"), str(tmp_path / "a"), str(tmp_path / "b/2.parquet")])
    assert found == [str(tmp_path / "b/2.parquet"), str(tmp_path / "a/x/1.parquet")]


def test_a_pattern_matching_nothing_names_the_field(tmp_path) -> None:
    _write(tmp_path / "a.parquet")
    with pytest.raises(InputError, match=r"sources\[2\]\.path: no Parquet files at '.*typo\*'"):
        find_parquet([str(tmp_path / "a.parquet"), str(tmp_path / "typo*")], "sources[2].path")
