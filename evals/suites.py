"""The eval suites: the golden set on the seed corpus, split dev/test, and the other corpora.

A suite is a folder of documents and the rows asked about them. `golden-dev` and `golden-test`
are the golden set (`datasets/golden.jsonl`, on `corpus/`) split by a hash of each row's id
(a third to test, stable as rows are added); every folder under `corpora/` with a
`corpus.toml` is one suite more (its documents in `docs/`, its rows in `questions.jsonl`, its
claims in `claims.jsonl`; see `corpora/FORMAT.md`). Rules and prompts are tuned on `dev`
suites only; `test` suites are reported, not read row by row. Not here: asking or scoring.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from evals.dataset import DEFAULT_DATASET, Row, load_dataset

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpora"
SEED_CORPUS = HERE.parent / "corpus"
CLAIMS = HERE / "datasets" / "claims.jsonl"
TEST_SHARE = 3  # one row in three goes to test


def golden_split(row_id: str) -> str:
    """`test` for about a third of the ids, `dev` for the rest; the same id always the same."""
    return "test" if int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16) % TEST_SHARE == 0 \
        else "dev"


@dataclass(frozen=True)
class Suite:
    name: str
    split: str  # "dev": tuned on; "test": reported only
    docs: Path  # the folder ingested for it
    rows: list[Row]
    claims: Path | None = None

    @property
    def store_key(self) -> str:
        """Suites on the same documents share one store."""
        return hashlib.sha256(str(self.docs.resolve()).encode()).hexdigest()[:10]


def golden_suites(dataset: Path = DEFAULT_DATASET, docs: Path = SEED_CORPUS) -> list[Suite]:
    rows = load_dataset(dataset)
    return [Suite(f"golden-{split}", split, docs,
                  [r for r in rows if golden_split(r.id) == split], CLAIMS if split == "dev" else None)
            for split in ("dev", "test")]


def corpus_suite(folder: Path) -> Suite:
    """The suite of one corpus folder; ValueError naming what is missing or malformed."""
    try:
        meta = tomllib.loads((folder / "corpus.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{folder}: cannot read corpus.toml ({exc})") from None
    split = meta.get("split")
    if split not in ("dev", "test"):
        raise ValueError(f"{folder}/corpus.toml: split must be dev or test, got {split!r}")
    if not (folder / "docs").is_dir():
        raise ValueError(f"{folder}: no docs/ folder")
    claims = folder / "claims.jsonl"
    return Suite(str(meta.get("name") or folder.name), split, folder / "docs",
                 load_dataset(folder / "questions.jsonl"), claims if claims.is_file() else None)


def all_suites(root: Path = CORPORA) -> list[Suite]:
    """The golden suites, then every corpus under `root`, by name."""
    corpora = sorted(p.parent for p in root.glob("*/corpus.toml")) if root.is_dir() else []
    return [*golden_suites(), *(corpus_suite(p) for p in corpora)]


def select(suites: list[Suite], names: list[str] | None) -> list[Suite]:
    """The suites named (all when none are); ValueError for an unknown name."""
    if not names:
        return suites
    known = {s.name: s for s in suites}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
