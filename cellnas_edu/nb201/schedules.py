"""Two questions NATS-Bench's per-epoch files answer and the shipped table cannot (`cellnas nb201 schedules`,
`cellnas nb201 early-selection`).

- [`schedules`][cellnas_edu.nb201.schedules.schedules]: Section 4.1 says the cells NAS finds converge fast, and
  Section 5 that wide, shallow cells are the fast ones. If so, a short schedule should flatter them: do the
  widest, shallowest cells rank higher after the separate 12-epoch run (``hp='12'``) than after the 200-epoch
  run (``hp='200'``)? And how well does the 12-epoch ranking predict the 200-epoch one, overall and within each
  width and depth?
- [`early_selection`][cellnas_edu.nb201.schedules.early_selection]: Chapter 8's early selection on real curves:
  pick the best of a random candidate set by its test accuracy after `k` epochs of the 200-epoch run, and compare
  the final accuracy of that pick with the pick made on final accuracy.

The two are different experiments because of the ``hp`` trap (see [`cellnas_edu.nb201.natsbench`][]): epoch 12 of
the 200-epoch run is not the end of the 12-epoch run. Both select on *test* accuracy, the only curve every
dataset has; they measure how rankings move, not a search's honest outcome. Untrainable cells (no live path)
are left out of `schedules` (they are all at chance under both schedules) and kept in `early_selection` (a
random candidate set may hold them; they are never picked)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import UserError
from .natsbench import NATSArchive, check_dataset


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rho, or `None` where it is undefined (fewer than 3 values, or a constant)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(stats.spearmanr(x, y).statistic)


def _ranks(accuracy: np.ndarray) -> np.ndarray:
    """Rank 1 = the most accurate; ties share their average rank."""
    return stats.rankdata(-accuracy)


def _indexes(archive: NATSArchive) -> tuple[int, ...]:
    indexes = archive.indexes()
    if not indexes:
        raise UserError(f"{archive.folder} holds no per-architecture files (<index>.pickle.pbz2)")
    return indexes


def _group_rows(name: str, values: np.ndarray, acc12: np.ndarray, acc200: np.ndarray) -> list[dict]:
    rank12, rank200 = _ranks(acc12), _ranks(acc200)
    rows = []
    for v in sorted(set(values.tolist())):
        sel = values == v
        rows.append({name: int(v), "n": int(sel.sum()), "spearman_12_vs_200": _spearman(acc12[sel], acc200[sel]),
                     "mean_rank_12": float(rank12[sel].mean()), "mean_rank_200": float(rank200[sel].mean())})
    return rows


def schedules(archive: NATSArchive, dataset: str = "cifar10") -> dict:
    """The 12-epoch against the 200-epoch ranking of every trainable architecture on disk (Section 4.1, Section 5).

    Accuracies are final test accuracies averaged over each schedule's seeds; ranks run over all trainable cells
    on disk (1 = best, ties averaged). ``widest_shallowest`` is the group of the largest width and, within it,
    the smallest depth (width 3, depth 2 on the full space); ``ranks_higher_early`` says whether its mean rank is
    better (smaller) at ``hp='12'`` than at ``hp='200'``."""
    check_dataset(dataset)
    rows = []
    skipped = 0
    for index in _indexes(archive):
        cell = archive.cell(index)
        if not cell.is_trainable:
            skipped += 1
            continue
        both = archive.read(index)
        rows.append((index, cell.width, cell.depth, both["12"].test_accuracy(dataset),
                     both["200"].test_accuracy(dataset)))
    if len(rows) < 2:
        raise UserError(f"{archive.folder} has {len(rows)} trainable architecture(s) on disk; a ranking needs two")
    width, depth = (np.array([r[k] for r in rows]) for k in (1, 2))
    acc12, acc200 = (np.array([r[k] for r in rows], dtype=float) for k in (3, 4))
    rank12, rank200 = _ranks(acc12), _ranks(acc200)
    widest = int(width.max())
    shallowest = int(depth[width == widest].min())
    corner = (width == widest) & (depth == shallowest)
    return {
        "dataset": dataset,
        "n": len(rows),
        "untrainable_left_out": skipped,
        "spearman_12_vs_200": _spearman(acc12, acc200),
        "by_width": _group_rows("width", width, acc12, acc200),
        "by_depth": _group_rows("depth", depth, acc12, acc200),
        "widest_shallowest": {
            "width": widest, "depth": shallowest, "n": int(corner.sum()),
            "mean_rank_12": float(rank12[corner].mean()), "mean_rank_200": float(rank200[corner].mean()),
            "ranks_higher_early": bool(rank12[corner].mean() < rank200[corner].mean()),
        },
    }


def accuracy_curves(archive: NATSArchive, dataset: str, hp: str = "200") -> tuple[tuple[int, ...], np.ndarray]:
    """The architectures on disk and their test-accuracy curves at `hp`, averaged over seeds: `(indexes, A)` with
    ``A[i, e]`` the accuracy after epoch ``e + 1``."""
    check_dataset(dataset)
    indexes = _indexes(archive)
    curves = []
    for index in indexes:
        runs = archive.read(index, (hp,))[hp].runs_on(dataset)
        curves.append(np.mean([r.test.accuracy for r in runs], axis=0))
    return indexes, np.array(curves, dtype=float)


def early_selection(archive: NATSArchive, dataset: str = "cifar10", ks: tuple[int, ...] = (5, 12, 25, 50, 100),
                    candidates: int = 10, trials: int = 1000, seed: int = 0) -> dict:
    """Chapter 8's early selection on the 200-epoch curves: the best of `candidates` random architectures by test
    accuracy after `k` epochs, against the best by final test accuracy, over `trials` candidate sets.

    The candidate sets are drawn once (without replacement within a set, NumPy's ``default_rng(seed)``) and
    shared by every `k`, so the values of `k` are compared on the same sets; ties go to the candidate drawn
    first. Per `k`: the mean final accuracy of the early pick and of the final pick, their mean difference
    (regret), the share of sets where the early pick is as good as the final one, and Spearman's rho between
    accuracy after `k` epochs and final accuracy over all architectures on disk."""
    indexes, curves = accuracy_curves(archive, dataset)
    n, epochs = curves.shape
    if not 1 <= candidates <= n:
        raise UserError(f"--candidates {candidates}: {n} architecture(s) on disk, so 1..{n}")
    if trials < 1:
        raise UserError(f"--trials {trials}: at least 1")
    bad = [k for k in ks if not 1 <= k <= epochs]
    if bad or not ks:
        raise UserError(f"--k {bad[0] if bad else '(none)'}: epochs after which to select, 1..{epochs}")
    rng = np.random.default_rng(seed)
    sets = np.array([rng.choice(n, size=candidates, replace=False) for _ in range(trials)])
    final = curves[:, -1]
    best = final[sets].max(axis=1)
    rows = []
    for k in ks:
        picked = sets[np.arange(trials), curves[sets, k - 1].argmax(axis=1)]
        chosen = final[picked]
        rows.append({"k": int(k), "mean_final_selected": float(chosen.mean()), "mean_final_best": float(best.mean()),
                     "mean_regret": float((best - chosen).mean()), "share_optimal": float((chosen == best).mean()),
                     "spearman_k_vs_final": _spearman(curves[:, k - 1], final)})
    return {"dataset": dataset, "n": n, "epochs": epochs, "candidates": candidates, "trials": trials, "seed": seed,
            "by_k": rows}


__all__ = ["early_selection", "schedules", "accuracy_curves"]
