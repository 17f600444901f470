"""``curate publish OUT --repo ORG/NAME``: put a finished run's kept documents on the Hugging Face Hub.

The run's ``data/`` shards are laid out for the Hub: rows are grouped into folders by the columns that
make useful configs (language, category, quality bucket; ``--config-by``), one file per run shard and
group, so ``load_dataset(repo, "en")`` reads only English. A dataset card (:mod:`curate.report.dataset_card`)
goes next to them, with the report's plots when ``OUT/report/`` exists. ``--dry-run DIR`` writes exactly
that folder and stops; otherwise it is written to ``OUT/hub/`` (reused while the run and options are the
same) and :mod:`curate.publish.upload` sends the files the repo does not hold yet, in several commits, so
re-running after a failure or a kill uploads only what is missing.

The token comes from huggingface_hub's usual places (``HF_TOKEN``, ``hf auth login``); it is never
printed, written to the card or put in an error message. Only ``OUT/hub/`` is uploaded: never ``_work/``,
the manifest's folder itself or anything a symbolic link leads to outside OUT (such a link is refused).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.errors import OutputError
from curate.core.schema import TEXT
from curate.io.shards import write_json, write_parquet
from curate.publish.upload import PublishError, upload
from curate.report.dataset_card import CardInputs, ConfigInfo, render_card
from curate.report.html import drop_reasons, open_run

#: Columns that make configs, in the order ``--config-by auto`` tries them (the first present wins).
AUTO_CONFIG_COLUMNS = ("lang", "category", "domain", "quality_bucket")
ALL_CONFIG = "all"
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: What a staged folder holds; a --dry-run folder with anything else is someone else's and is not replaced.
_STAGED_ENTRIES = {"README.md", "data", "report", ".cache"}


@dataclass
class Staged:
    """A folder laid out for the Hub and what it holds."""

    folder: Path
    configs: list[ConfigInfo]
    files: int


# --- layout ------------------------------------------------------------------------------------------------


def _config_columns(fields: dict[str, pa.DataType], config_by: list[str] | None) -> list[str]:
    if config_by is None:
        return [c for c in AUTO_CONFIG_COLUMNS if c in fields][:1]
    missing = [c for c in config_by if c not in fields]
    if missing:
        raise PublishError(
            f"--config-by {','.join(missing)}: no such column in data/; columns there: {', '.join(fields)}"
        )
    bad = [c for c in config_by if not (pa.types.is_string(fields[c]) or pa.types.is_large_string(fields[c]) or pa.types.is_integer(fields[c]) or pa.types.is_boolean(fields[c]))]
    if bad:
        raise PublishError(f"--config-by {','.join(bad)}: configs need a string, integer or boolean column")
    return config_by


def _segment_names(column: str, values: set) -> dict:
    """value -> folder/config name: ``en`` for languages, ``quality_bucket-07`` for others; ``none`` for null."""
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    width = max((len(str(abs(v))) for v in ints), default=1)
    names: dict = {}
    for v in values:
        if v is None:
            text = "none"
        elif v in ints:
            text = f"{v:0{width}d}" if v >= 0 else f"-{abs(v):0{width}d}"
        else:
            text = _UNSAFE.sub("_", str(v)).strip("_") or "empty"
        names[v] = text if column == "lang" else f"{_UNSAFE.sub('_', column)}-{text}"
    used = Counter(names.values())
    clashes = {n for n, k in used.items() if k > 1} | ({ALL_CONFIG} & set(used))
    if clashes:
        raise PublishError(
            f"--config-by {column}: values {sorted(str(k) for k, n in names.items() if n in clashes)} give the same "
            f"config name {sorted(clashes)}; clean the column or group by another one"
        )
    return names


def _count_tokens(text: pa.ChunkedArray | pa.Array, tokenizer: object | None) -> pa.Array:
    """Tokens per document: the tokenizer's, or whitespace-separated words."""
    if tokenizer is not None:
        return pa.array(tokenizer.count(text), pa.int64())  # type: ignore[attr-defined]
    return pc.cast(pc.fill_null(pc.count_substring_regex(text, r"\S+"), 0), pa.int64())


def _sort_key(key: tuple) -> tuple:
    """Group keys in a stable order: values ascending, nulls last."""
    return tuple((v is None, "" if v is None else v) for v in key)


def _key_mask(table: pa.Table, column: str, value: object) -> pa.Array:
    col = table.column(column)
    return pc.is_null(col) if value is None else pc.fill_null(pc.equal(col, pa.scalar(value, col.type)), False)


def stage_folder(
    out: str | Path,
    dest: str | Path,
    *,
    repo_id: str,
    config_by: list[str] | None = None,
    license: str | None = None,
    tokenizer: str | None = None,
    pretty_name: str | None = None,
) -> Staged:
    """Lay out a finished run's kept shards, the card and the report's plots in ``dest`` (made afresh)."""
    root = Path(out)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise OutputError(
            f"{out}: no manifest.json, so this is not a finished curate run; run the same `curate run` command "
            "again to finish it, then publish"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    parts = [_inside_run(root, p) for p in sorted((root / "data").glob("part-*.parquet"))]
    if not parts:
        raise OutputError(f"{out}/data has no part-*.parquet shards to publish")
    fields: dict[str, pa.DataType] = {}
    for p in parts:
        for f in pq.read_schema(p):
            fields.setdefault(f.name, f.type)
    if TEXT not in fields:
        raise OutputError(f"{out}/data shards have no `{TEXT}` column; is this a curate run output?")
    dims = _config_columns(fields, config_by)

    # pass 1: the values of the grouping columns (small columns only), so folder names are known up front
    values: dict[str, set] = {c: set() for c in dims}
    for p in parts:
        if dims:
            t = pq.read_table(p, columns=dims)
            for c in dims:
                values[c].update(pc.unique(t.column(c)).to_pylist())
    names = {c: _segment_names(c, values[c]) for c in dims}

    counter = None
    if tokenizer:
        from curate.mix.tokens import MixTokenizer

        counter = MixTokenizer(tokenizer, None)
    token_unit = "tokens" if counter else "whitespace tokens"

    folder = Path(dest)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "data").mkdir(parents=True)
    # (column or None, value) -> [documents, tokens, characters, files]
    sums: dict[tuple, list[int]] = {(None, None): [0, 0, 0, 0]}
    files = 0
    for p in parts:
        table = pq.read_table(p)
        tokens = _count_tokens(table.column(TEXT), counter)
        chars = pc.cast(pc.fill_null(pc.utf8_length(table.column(TEXT)), 0), pa.int64())
        if dims:
            combos = table.select(dims).group_by(dims).aggregate([]).to_pylist()
            keys = sorted((tuple(row[c] for c in dims) for row in combos), key=_sort_key)
        else:
            shutil.copyfile(p, folder / "data" / p.name)  # one config: the run's shards as they are
            keys = [()]
        for key in keys:
            mask = None
            for c, v in zip(dims, key):
                m = _key_mask(table, c, v)
                mask = m if mask is None else pc.and_(mask, m)
            sub, sub_tokens, sub_chars = (table, tokens, chars) if mask is None else (
                table.filter(mask), tokens.filter(mask), chars.filter(mask))
            if dims:
                target = folder / "data" / Path(*[names[c][v] for c, v in zip(dims, key)]) / p.name
                write_parquet(sub, target)
            files += 1
            n, tok, ch = sub.num_rows, int(pc.sum(sub_tokens).as_py() or 0), int(pc.sum(sub_chars).as_py() or 0)
            for group in [(None, None)] + [(c, v) for c, v in zip(dims, key)]:
                acc = sums.setdefault(group, [0, 0, 0, 0])
                acc[0] += n
                acc[1] += tok
                acc[2] += ch
                acc[3] += 1

    depth = len(dims)
    configs = [ConfigInfo(ALL_CONFIG, "data/" + "*/" * depth + "*.parquet", *sums[(None, None)])]
    for i, c in enumerate(dims):
        for v in sorted(values[c], key=lambda v: _sort_key((v,))):
            segs = ["*"] * depth
            segs[i] = names[c][v]
            configs.append(ConfigInfo(names[c][v], "data/" + "/".join(segs) + "/*.parquet", *sums[(c, v)], column=c, value=v))

    plot_files = []
    for png in (_inside_run(root, p) for p in _report_plots(root)):
        (folder / "report").mkdir(exist_ok=True)
        shutil.copyfile(png, folder / "report" / png.name)
        plot_files.append(f"report/{png.name}")

    recipe = manifest.get("recipe", {})
    languages = sorted((str(v) for v in values.get("lang", set()) if v is not None), key=lambda v: -sums[("lang", v)][0])
    if "lang" not in dims and "lang" in fields:
        languages = [v for v in _distinct(parts, "lang") if v is not None]
    card = CardInputs(
        repo_id=repo_id,
        pretty_name=pretty_name or str(recipe.get("name") or repo_id.split("/")[-1]),
        license=license or str(recipe.get("license") or "other"),
        manifest=manifest,
        configs=configs,
        languages=languages,
        token_unit=token_unit,
        plots=plot_files,
        config_columns=dims,
        drop_reasons=drop_reasons(open_run(root), top=3),
        columns={name: str(dtype) for name, dtype in fields.items()},
    )
    (folder / "README.md").write_text(render_card(card), encoding="utf-8")
    return Staged(folder, configs, files)


def _inside_run(root: Path, path: Path) -> Path:
    """``path`` itself, after refusing one that is (or passes through) a symbolic link leading out of the run."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise OutputError(
            f"{path} leads out of {root} (a symbolic link to {target}); publish uploads only files inside the "
            "run folder: replace the link with the file itself"
        )
    return path


def _report_plots(root: Path) -> list[Path]:
    """The report's PNGs in the page's order (report.json), else by name."""
    folder = root / "report"
    pngs = {p.name: p for p in sorted(folder.glob("*.png"))}
    listed = folder / "report.json"
    order = json.loads(listed.read_text(encoding="utf-8")).get("plots", []) if listed.exists() else []
    return [pngs[n] for n in order if n in pngs] + [p for n, p in pngs.items() if n not in order]


def _distinct(parts: list[Path], column: str) -> list:
    seen: set = set()
    for p in parts:
        if column in pq.read_schema(p).names:
            seen.update(pc.unique(pq.read_table(p, columns=[column]).column(0)).to_pylist())
    return sorted(seen, key=lambda v: (v is None, str(v)))


# --- publish -----------------------------------------------------------------------------------------------


def _stage_key(out: Path, options: dict) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    plots = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in sorted((out / "report").glob("*.png"))]
    return {"fingerprint": manifest.get("fingerprint"), "totals": manifest.get("totals"), "plots": plots,
            "options": options, "curate": version("curate")}


def publish(
    out: str,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    dry_run: str | None = None,
    config_by: list[str] | None = None,
    license: str | None = None,
    tokenizer: str | None = None,
    pretty_name: str | None = None,
    files_per_commit: int = 100,
    say=print,
) -> Path:
    """Stage ``out`` for ``repo_id`` and upload it (or only write the folder, with ``dry_run``)."""
    if not _REPO_ID.match(repo_id):
        raise PublishError(f"--repo {repo_id!r}: give the dataset repo as ORG/NAME (letters, digits, - _ .)")
    if files_per_commit < 1:
        raise PublishError(f"--files-per-commit {files_per_commit}: give at least 1")
    options = {"repo": repo_id, "config_by": config_by, "license": license, "tokenizer": tokenizer, "pretty_name": pretty_name}

    def stage(dest: Path) -> Staged:
        return stage_folder(out, dest, repo_id=repo_id, config_by=config_by, license=license,
                            tokenizer=tokenizer, pretty_name=pretty_name)

    if dry_run:
        dest = Path(dry_run)
        if dest.exists() and not {p.name for p in dest.iterdir()} <= _STAGED_ENTRIES:
            raise PublishError(f"--dry-run {dry_run}: folder exists and is not an earlier dry run; give a new or empty folder")
        staged = stage(dest)
        say(f"{dest}: {staged.files} data file(s) in {len(staged.configs)} config(s) and README.md; "
            f"this is what `curate publish` would upload to {repo_id} (nothing was uploaded)")
        return dest

    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, then run the same command "
                           "again (nothing was uploaded)")
    root = Path(out)
    folder, marker = root / "hub", root / "hub.json"
    key = _stage_key(root, options) if (root / "manifest.json").exists() else None
    if not (folder.is_dir() and marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == key):
        marker.unlink(missing_ok=True)
        staged = stage(folder)
        write_json(_stage_key(root, options), marker)
        say(f"{folder}: laid out {staged.files} data file(s) in {len(staged.configs)} config(s)")
    recipe = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["recipe"].get("name", "run")
    url = upload(folder, repo_id, token, private=private, revision=revision, message=f"curate publish: {recipe}",
                 files_per_commit=files_per_commit, say=say)
    say(f"published {folder} to {url}" + (f" (revision {revision})" if revision else ""))
    return folder
