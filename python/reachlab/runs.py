"""Runs from Python: train a scenario, then read its folder back as numpy arrays and dicts."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any, Iterator

import numpy as np

from . import _reachlab as _r
from ._files import read_safetensors
from .policy import load_policy

__all__ = ["train", "analyze", "collect", "load_run", "Run", "read_safetensors", "list_scenarios", "scenario_toml"]

def _seed_list(seeds: int | Sequence[int] | None) -> list[int] | None:
    """``N`` → seeds 0..N (as ``train_agent --seeds N``); a list as it is."""
    if seeds is None:
        return None
    if isinstance(seeds, (int, np.integer)):
        if not 1 <= int(seeds) <= 1000:
            raise ValueError(f"seeds={seeds}: give 1 to 1000 seeds, or a list")
        return list(range(int(seeds)))
    return [int(s) for s in seeds]


def train(
    scenario: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    seed: int | None = None,
    seeds: int | Sequence[int] | None = None,
    quick: bool = False,
    threads: int | None = None,
    jobs: int = 1,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
) -> "Run":
    """Runs a scenario (a built-in name such as ``"curl_field"``, a TOML file, or TOML text) into ``out``
    as ``train_agent --scenario … --out …`` does, and returns the run read back (``load_run``).

    ``seed`` replaces the scenario's seed; ``seeds`` (``N`` for seeds 0..N, or a list) runs those seeds and
    writes the findings over them, as ``train_agent --seeds`` does (``jobs`` of them at once).
    ``threads`` sets the rollout workers; the matrix kernels use ``RAYON_NUM_THREADS`` as it was when
    ``reachlab`` was imported (default: one per core). Results do not depend on either.
    ``resume=True`` continues a killed or interrupted run in ``out``; a run whose ``scenario.toml`` was
    edited since its last checkpoint is refused, naming the keys, unless ``force=True`` too (as
    ``train_agent --resume --force``). The GIL is released while training;
    progress lines go to stderr (``progress=False`` silences them); Ctrl-C raises ``KeyboardInterrupt`` at
    the next update and leaves the run resumable.
    """
    if out is None:
        raise ValueError("give out=: the folder the run writes into")
    path = _r.train(
        None if scenario is None else os.fspath(scenario),
        os.fspath(out),
        seed=seed,
        seeds=_seed_list(seeds),
        quick=quick,
        threads=threads,
        jobs=jobs,
        resume=resume,
        force=force,
        progress=progress,
    )
    return load_run(path)


def analyze(path: str | os.PathLike) -> str:
    """Recomputes what a finished run derives from its files, as ``analyze_run --run`` does (a reaching
    run's analysis, figures and summary; every unit of a run over seeds and its findings; a task run's
    fixed points and report), and returns the report the run printed at its end. An analysis that fails
    raises and leaves the run's files as they were."""
    return _r.analyze(os.fspath(path))


def collect(path: str | os.PathLike) -> list[int]:
    """Gathers a sweep's folder as ``train_agent --collect`` does (``collected.csv`` and ``collected.md``,
    the SVCCA and DSA matrices, ``figures/svcca_mds.png``) and returns the indices of the units that have
    not finished."""
    return _r.collect(os.fspath(path))


def list_scenarios() -> list[tuple[str, str]]:
    """``(name, description)`` of every built-in scenario."""
    return _r.list_scenarios()


def scenario_toml(scenario: str | os.PathLike) -> str:
    """A scenario's TOML with every default written out."""
    return _r.scenario_toml(os.fspath(scenario))


def _column(values: list[str]) -> np.ndarray:
    try:
        return np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=object)


def _read_csv(path: Path, as_pandas: bool):
    if as_pandas:
        import pandas as pd

        return pd.read_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    head, body = rows[0], rows[1:]
    return {name: _column([r[i] if i < len(r) else "" for r in body]) for i, name in enumerate(head)}


class _Recordings(Mapping):
    """``recordings/*.safetensors`` by name, each read on first access: a comparison's 32 runs hold
    ~1.4 GB of recordings, which reading a run folder should not load up front."""

    def __init__(self, folder: Path):
        self._paths = {f.stem: f for f in sorted(folder.glob("*.safetensors"))}
        self._loaded: dict[str, dict[str, np.ndarray]] = {}

    def __getitem__(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._loaded:
            self._loaded[name] = read_safetensors(self._paths[name])
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


@dataclass
class Run:
    """A run folder read back.

    ``tables``: every CSV (``learning_curve``, ``trials``, ``evaluations``, task runs' ``results``, …) as a
    dict of column arrays, or a pandas DataFrame when pandas is installed; ``summary`` and ``analysis``
    (``summary.json``, ``analysis.json``) as dicts; ``recordings``: each ``recordings/*.safetensors``
    (hidden states [trials, steps, units], observations, hand paths, targets …) as a dict of arrays,
    read when first indexed;
    ``units``: the sub-runs of a comparison or task run (``naive/seed-0`` …), each a ``Run``.
    """

    path: Path
    scenario: str
    tables: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    recordings: Mapping[str, dict[str, np.ndarray]] = field(default_factory=dict)
    units: dict[str, "Run"] = field(default_factory=dict)

    @property
    def learning_curve(self):
        return self.tables.get("learning_curve")

    @property
    def trials(self):
        return self.tables.get("trials")

    @property
    def evaluations(self):
        return self.tables.get("evaluations")

    @property
    def summary(self) -> dict | None:
        return self.json.get("summary")

    @property
    def analysis(self) -> dict | None:
        return self.json.get("analysis")

    def policy(self, checkpoint: str = "latest"):
        """The policy of a checkpoint (``latest``, or a stage name: the weights at the stage's end)."""
        return load_policy(self.path, checkpoint)

    def __repr__(self) -> str:
        parts = [f"path={str(self.path)!r}"]
        if self.tables:
            parts.append(f"tables={sorted(self.tables)}")
        if self.recordings:
            parts.append(f"recordings={sorted(self.recordings)}")
        if self.units:
            parts.append(f"units={len(self.units)}")
        return f"Run({', '.join(parts)})"


def load_run(path: str | os.PathLike, as_pandas: bool | None = None) -> Run:
    """Reads a run folder (reaching, comparison, or task run). ``as_pandas``: tables as DataFrames
    (default: when pandas is installed)."""
    root = Path(path)
    if not (root / "scenario.toml").is_file():
        raise FileNotFoundError(f"{root}: no scenario.toml, so not a run folder")
    if as_pandas is None:
        try:
            import pandas  # noqa: F401

            as_pandas = True
        except ImportError:
            as_pandas = False
    run = Run(path=root, scenario=(root / "scenario.toml").read_text())
    for f in sorted(root.glob("*.csv")):
        run.tables[f.stem] = _read_csv(f, as_pandas)
    for f in sorted(root.glob("*.json")):
        run.json[f.stem] = json.loads(f.read_text())
    run.recordings = _Recordings(root / "recordings")
    subs = [p.parent for p in root.rglob("scenario.toml") if p.parent != root and "checkpoints" not in p.parts]
    for sub in sorted(subs, key=lambda p: (len(p.parts), p)):
        # Only the nearest run folders below this one (arm/seed-k, seed<k>, unit-0000); theirs are theirs.
        rel = sub.relative_to(root)
        if {Path(*rel.parts[:i]).as_posix() for i in range(1, len(rel.parts))} & run.units.keys():
            continue
        run.units[rel.as_posix()] = load_run(sub, as_pandas)
    return run
