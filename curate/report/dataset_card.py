"""The dataset card (``README.md``) of a published run: Hub metadata in a YAML header, then the evidence.

The header is what the Hub and ``datasets.load_dataset`` read: one config per value of the columns the
data files are grouped by (language, category, quality bucket) plus an ``all`` config, the license, the
language list, the size category and the task. The body is for people: how many documents and tokens each
config holds, what every step of the recipe kept and dropped, the report's plots, and the recipe itself,
so a reader can rebuild the corpus (paths in it made portable), every column, the source data, limitations
and personal information (:mod:`curate.report.card_sections`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from curate.report.card_sections import (
    columns_section,
    funnel_section,
    limitations_section,
    pii_section,
    portable_recipe,
    source_section,
)

#: The Hub's size buckets (``size_categories``), by number of documents.
_SIZES = [
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"),
]
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def size_category(documents: int) -> str:
    """The Hub's ``size_categories`` value for a number of documents."""
    for limit, label in _SIZES:
        if documents < limit:
            return label
    return "n>1T"


@dataclass
class ConfigInfo:
    """One Hub config: its name, the glob of its files (relative to the repo root) and what it holds."""

    name: str
    path: str
    documents: int = 0
    tokens: int = 0
    characters: int = 0
    files: int = 0
    column: str | None = None
    value: object = None


@dataclass
class CardInputs:
    """Everything the card says; gathered by :mod:`curate.publish.hub` while it lays out the files."""

    repo_id: str
    pretty_name: str
    license: str
    manifest: dict
    configs: list[ConfigInfo]
    languages: list[str]
    token_unit: str
    plots: list[str] = field(default_factory=list)
    config_columns: list[str] = field(default_factory=list)
    drop_reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # column -> Arrow type, of the published shards


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _metadata(c: CardInputs) -> dict:
    everything = next(cfg for cfg in c.configs if cfg.column is None)
    meta: dict = {
        "pretty_name": c.pretty_name,
        "license": c.license,
    }
    languages = [code for code in c.languages if _LANGUAGE_CODE.match(code)]
    if languages:
        meta["language"] = languages
        meta["multilinguality"] = ["multilingual" if len(languages) > 1 else "monolingual"]
    meta["size_categories"] = [size_category(everything.documents)]
    meta["task_categories"] = ["text-generation"]
    meta["tags"] = ["curate", "pretraining"]
    configs = []
    for cfg in c.configs:
        entry: dict = {"config_name": cfg.name}
        if cfg.column is None:
            entry["default"] = True
        entry["data_files"] = [{"split": "train", "path": cfg.path}]
        configs.append(entry)
    meta["configs"] = configs
    return meta


def render_card(c: CardInputs) -> str:
    """The whole ``README.md``: YAML header, then the body in Markdown."""
    m = c.manifest
    recipe = m.get("recipe", {})
    totals = m.get("totals", {})
    everything = next(cfg for cfg in c.configs if cfg.column is None)
    header = yaml.safe_dump(_metadata(c), sort_keys=False, allow_unicode=True, width=1000)
    lines = [f"---\n{header}---", "", f"# {c.pretty_name}", ""]
    if recipe.get("description"):
        lines += [str(recipe["description"]), ""]
    lines += [
        f"Curated with `curate` from recipe `{recipe.get('name', '?')}`: "
        f"{everything.documents:,} documents, {everything.tokens:,} {c.token_unit}, "
        f"{everything.characters:,} characters, kept from {totals.get('docs_in', 0):,} input documents.",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("{c.repo_id}", split="train")' + (
            f'  # or a config: load_dataset("{c.repo_id}", "{c.configs[1].name}", split="train")' if len(c.configs) > 1 else ""
        ),
        "```",
        "",
        "## Configs",
        "",
    ]
    if c.config_columns:
        lines += [f"Files are grouped by {', '.join(f'`{col}`' for col in c.config_columns)}; `all` holds every document.", ""]
    lines += [f"| config | column | value | documents | {c.token_unit} | characters | files |", "|---|---|---|---:|---:|---:|---:|"]
    for cfg in c.configs:
        value = "" if cfg.column is None else ("(none)" if cfg.value is None else cfg.value)
        lines.append(
            f"| `{_cell(cfg.name)}` | {_cell(cfg.column or '')} | {_cell(value)} | {cfg.documents:,} | {cfg.tokens:,} | "
            f"{cfg.characters:,} | {cfg.files} |"
        )
    lines += ["", "## Token totals", ""]
    lines += [
        f"- documents: {everything.documents:,}",
        f"- {c.token_unit}: {everything.tokens:,}",
        f"- characters: {everything.characters:,}",
        "",
    ]
    if c.token_unit == "whitespace tokens":
        lines += ["Whitespace tokens are runs of non-space characters: they undercount languages written without "
                  "spaces (Chinese, Japanese, Thai). `curate publish --tokenizer tokenizer.json` counts real tokens.", ""]
    lines += source_section(m)
    if c.columns:
        lines += columns_section(recipe, c.columns)
    lines += funnel_section(m, c.drop_reasons, _cell)
    lines += limitations_section(m, c.token_unit)
    lines += pii_section(m)
    if c.plots:
        lines += ["", "## Plots", "", "From `curate report` on the run output.", ""]
        for plot in c.plots:
            title = plot.rsplit("/", 1)[-1].removesuffix(".png").replace("_", " ")
            lines += [f"![{title}]({plot})", ""]
    lines += [
        "",
        "## Recipe",
        "",
        "```yaml",
        yaml.safe_dump(portable_recipe(recipe), sort_keys=False, allow_unicode=True, width=100).rstrip(),
        "```",
    ]
    versions = m.get("versions", {})
    if versions:
        lines += ["", "## Software", "", ", ".join(f"{k} {v}" for k, v in versions.items())]
    return "\n".join(lines).rstrip() + "\n"
