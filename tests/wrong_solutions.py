"""Plausible wrong solutions of the `cellnas exercises` course: what a learner really writes.

`WRONG[name]` holds, for every exercise, the mistakes a learner is likely to make after reading the
stub's docstring: a misread definition (one level of sources instead of all, the literal reading of
Section 3.2), an off-by-one, a transposed factor, a forgotten error case. Each docstring names the
mistake. `tests/test_exercises_grading.py` grades every one of them and requires that a *property*
check (a Hypothesis `@given` test) fails, not only a worked example: a worked example catches the
mistake it was written for, a property catches the ones nobody thought of."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import torch

from cellnas_edu.cells import topology
from cellnas_edu.cells.cellspec import NUM_INPUTS


# -- Chapter 1 -----------------------------------------------------------------------------------------
def live_nodes_concat_only(self):
    """Forgets that a live node makes its sources live."""
    return frozenset(self.concat)


def live_nodes_one_level(self):
    """Follows the sources of the concatenated nodes, but not the sources of those sources."""
    live = set(self.concat)
    for node in self.concat:
        live.update(src for _, src in self.node_inputs(node) if src >= NUM_INPUTS)
    return frozenset(live)


def live_nodes_forward_order(self):
    """The hint's walk in the wrong direction: a node's readers are decided after the node itself."""
    live = set(self.concat)
    for node in self.intermediate_nodes:
        if node in live:
            live.update(src for _, src in self.node_inputs(node) if src >= NUM_INPUTS)
    return frozenset(live)


def live_nodes_any_reader(self):
    """Calls a node live when any node reads it, live or dead."""
    read = {src for _, src in self.edges if src >= NUM_INPUTS}
    return frozenset(set(self.concat) | read)


def live_nodes_with_inputs(self):
    """Keeps the input nodes 0 and 1 among the sources it collects."""
    live = set(self.concat)
    for node in reversed(self.intermediate_nodes):
        if node in live:
            live.update(src for _, src in self.node_inputs(node))
    return frozenset(live)


def cell_width_all_nodes(cell):
    """The literal reading of Section 3.2: dead nodes counted too."""
    return topology.cell_width_all_nodes(cell)


def cell_width_concat_only(cell):
    """Sums over the concatenated nodes instead of the live ones."""
    return sum((topology.node_width(cell, node) for node in cell.concat), Fraction(0))


def cell_width_whole_nodes_only(cell):
    """Counts a whole c for a live node fed by inputs only and nothing for a partially connected one."""
    return Fraction(sum(1 for node in cell.live_nodes()
                        if all(src < NUM_INPUTS for _, src in cell.node_inputs(node))))


def cell_width_node_0_only(cell):
    """Counts only the operations that read input node 0 (forgets node 1)."""
    return sum((Fraction(sum(1 for _, src in cell.node_inputs(node) if src == 0), 2) for node in cell.live_nodes()),
               Fraction(0))


def cell_depth_over_all_nodes(cell):
    """Takes the deepest intermediate node, concatenated or not (dead nodes included)."""
    return 1 + max(topology.node_depths(cell).values())


def cell_depth_without_the_output(cell):
    """Forgets the connection from the concatenated node to the output node."""
    depth = topology.node_depths(cell)
    return max(depth[node] for node in cell.concat)


def cell_depth_last_concat_node(cell):
    """Reads the depth of the highest-numbered concatenated node only."""
    return 1 + topology.node_depths(cell)[max(cell.concat)]


def cell_depth_shortest(cell):
    """The shortest path through each node instead of the longest."""
    depth = {i: 0 for i in range(NUM_INPUTS)}
    for node in cell.intermediate_nodes:
        depth[node] = 1 + min(depth[src] for _, src in cell.node_inputs(node))
    return 1 + max(depth[node] for node in cell.concat)


# -- Chapter 2 -----------------------------------------------------------------------------------------
def enumeration_count_papers_formula(cell):
    """Appendix A.2's (N-2)!/(M-1)!: one source per node instead of one per operation."""
    return math.factorial(cell.num_nodes - 2)


def enumeration_count_node_reads_itself(cell):
    """Off by one: operation k of node j may read the nodes 0..j (itself included)."""
    return math.prod(NUM_INPUTS + k // 2 + 1 for k in range(len(cell.edges)))


def enumeration_count_unordered_pairs(cell):
    """Counts a node's two sources as an unordered pair (the two operations differ, so order matters)."""
    return math.prod(j * (j + 1) // 2 for j in cell.intermediate_nodes)


def fraction_strictly_wider(self, width=None):
    """'At least as wide' read as 'wider'."""
    width = self.original.width if width is None else Fraction(width)
    return sum(b.count for b in self.histogram if b.width > width) / self.count


def fraction_zero_means_default(self, width=None):
    """`if not width` for the default: a threshold of 0 becomes the original cell's width."""
    width = Fraction(width) if width else self.original.width
    return sum(b.count for b in self.histogram if b.width >= width) / self.count


def fraction_at_the_original_depth(self, width=None):
    """Counts only the bins of the original cell's depth."""
    width = self.original.width if width is None else Fraction(width)
    return sum(b.count for b in self.histogram if b.width >= width and b.depth == self.original.depth) / self.count


# -- Chapter 3 -----------------------------------------------------------------------------------------
def _auc_inputs(values, epochs):
    y = np.asarray(values, dtype=float)
    x = np.arange(1, y.size + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    return x, y


def auc_divided_by_epochs(values, epochs=None):
    """Divides the trapezoid area by the number of epochs instead of the epoch span."""
    x, y = _auc_inputs(values, epochs)
    if y.size == 1:
        return float(y[0])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2)) / y.size


def auc_not_divided(values, epochs=None):
    """The trapezoid area itself, not divided by the span."""
    x, y = _auc_inputs(values, epochs)
    if y.size == 1:
        return float(y[0])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def auc_ignores_epochs(values, epochs=None):
    """Always spaces the values one epoch apart."""
    return auc_not_divided(values) / max(len(values) - 1, 1)


def auc_without_errors(values, epochs=None):
    """Right on good input, but an empty curve or epochs that do not increase give a number, not `ValueError`."""
    x, y = _auc_inputs(values, epochs)
    if y.size == 0:
        return 0.0
    if y.size == 1:
        return float(y[0])
    span = x[-1] - x[0]
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    return area / span if span else float(y.mean())


def _spearman_statistics(x, y):
    n = len(x)
    rank = lambda v: [sorted(v).index(a) + 1 for a in v]  # noqa: E731
    rx = rank(x)
    stat = lambda r: n * (n * n - 1) - 6 * sum((a - b) ** 2 for a, b in zip(rx, r))  # noqa: E731
    return stat(rank(y)), [stat(p) for p in itertools.permutations(range(1, n + 1))]


def spearman_strict(x, y, alternative="greater"):
    """Counts only the permutations strictly more extreme than the observed one."""
    observed, stats = _spearman_statistics(x, y)
    if alternative == "greater":
        hits = sum(t > observed for t in stats)
    elif alternative == "less":
        hits = sum(t < observed for t in stats)
    else:
        hits = sum(abs(t) > abs(observed) for t in stats)
    return hits / len(stats)


def spearman_tails_swapped(x, y, alternative="greater"):
    """'greater' counts the permutations with a smaller rho, 'less' those with a larger one."""
    observed, stats = _spearman_statistics(x, y)
    if alternative == "greater":
        hits = sum(t <= observed for t in stats)
    elif alternative == "less":
        hits = sum(t >= observed for t in stats)
    else:
        hits = sum(abs(t) >= abs(observed) for t in stats)
    return hits / len(stats)


def spearman_values_not_ranks(x, y, alternative="greater"):
    """Ranks x but puts y's raw values into the sum of squared differences (y is never ranked)."""
    n = len(x)
    rx = [sorted(x).index(a) + 1 for a in x]
    stat = lambda r: -sum((a - b) ** 2 for a, b in zip(rx, r))  # noqa: E731
    observed = stat(list(y))
    stats = [stat(list(p)) for p in itertools.permutations(y)]
    if alternative == "greater":
        hits = sum(t >= observed for t in stats)
    elif alternative == "less":
        hits = sum(t <= observed for t in stats)
    else:
        hits = sum(abs(t) >= abs(observed) for t in stats)
    return hits / math.factorial(n)


# -- Chapter 4 -----------------------------------------------------------------------------------------
def filter_normalize_globally(direction, weight):
    """One norm for the whole tensor instead of one per filter."""
    if direction.shape != weight.shape:
        raise ValueError("shapes differ")
    direction.mul_(weight.norm() / (direction.norm() + 1e-10))
    return direction


def filter_normalize_copy(direction, weight):
    """Right values, but in a new tensor: the direction passed in is not changed."""
    if direction.shape != weight.shape:
        raise ValueError("shapes differ")
    d, w = direction.reshape(direction.shape[0], -1), weight.reshape(weight.shape[0], -1)
    return (d * (w.norm(dim=1) / (d.norm(dim=1) + 1e-10)).unsqueeze(1)).reshape(direction.shape)


def filter_normalize_without_epsilon(direction, weight):
    """Divides by the filter norm alone: an all-zero filter becomes NaN."""
    if direction.shape != weight.shape:
        raise ValueError("shapes differ")
    d, w = direction.reshape(direction.shape[0], -1), weight.reshape(weight.shape[0], -1)
    d.mul_((w.norm(dim=1) / d.norm(dim=1)).unsqueeze(1))
    return direction


def filter_normalize_columns(direction, weight):
    """Takes a filter to be a slice along the *last* dimension."""
    if direction.shape != weight.shape:
        raise ValueError("shapes differ")
    if direction.dim() == 0:
        direction.mul_(weight.norm() / (direction.norm() + 1e-10))
        return direction
    d, w = direction.reshape(-1, direction.shape[-1]), weight.reshape(-1, weight.shape[-1])
    d.mul_(w.norm(dim=0) / (d.norm(dim=0) + 1e-10))
    return direction


def filter_normalize_no_shape_check(direction, weight):
    """Right per filter, but never compares the shapes (rows are matched by position)."""
    d = direction.reshape(direction.shape[0], -1) if direction.dim() else direction.reshape(1, 1)
    w = weight.reshape(weight.shape[0], -1) if weight.dim() else weight.reshape(1, 1)
    rows = min(d.shape[0], w.shape[0])
    d[:rows].mul_((w[:rows].norm(dim=1) / (d[:rows].norm(dim=1) + 1e-10)).unsqueeze(1))
    return direction


# -- Chapter 5 -----------------------------------------------------------------------------------------
def _sizes(self, chunk_grads):
    n_b = next(iter(chunk_grads.values())).shape[0]
    return self.count, n_b, self.count + n_b


def chan_shortcut(self, chunk_grads, *, consume=False):
    """The chunk's M2 by the shortcut sum ||g||^2 - n ||mean||^2 in the gradients' precision."""
    n_a, n_b, n = _sizes(self, chunk_grads)
    for name, g in chunk_grads.items():
        mean_b = g.mean(0)
        m2_b = g.square().sum() - n_b * mean_b.square().sum()
        delta = mean_b.double() - self.mean[name]
        self.m2 += m2_b.double() + delta.square().sum() * (n_a * n_b / n)
        self.mean[name] += delta * (n_b / n)
    self.count = n


def chan_without_the_cross_term(self, chunk_grads, *, consume=False):
    """Adds the chunks' M2 but forgets ||delta||^2 n_A n_B / (n_A + n_B)."""
    n_a, n_b, n = _sizes(self, chunk_grads)
    for name, g in chunk_grads.items():
        g = g.double()
        mean_b = g.mean(0)
        self.m2 += (g - mean_b).square().sum()
        self.mean[name] += (mean_b - self.mean[name]) * (n_b / n)
    self.count = n


def chan_mean_of_means(self, chunk_grads, *, consume=False):
    """Merges the means as the plain average of the two (right only for equal counts)."""
    n_a, n_b, n = _sizes(self, chunk_grads)
    for name, g in chunk_grads.items():
        g = g.double()
        mean_b = g.mean(0)
        delta = mean_b - self.mean[name]
        self.m2 += (g - mean_b).square().sum() + delta.square().sum() * (n_a * n_b / n)
        self.mean[name] = mean_b if n_a == 0 else (self.mean[name] + mean_b) / 2
    self.count = n


def chan_m2_overwritten(self, chunk_grads, *, consume=False):
    """Replaces m2 by the merge terms of this chunk instead of adding them to it."""
    n_a, n_b, n = _sizes(self, chunk_grads)
    m2 = torch.zeros((), dtype=torch.float64)
    for name, g in chunk_grads.items():
        g = g.double()
        mean_b = g.mean(0)
        delta = mean_b - self.mean[name]
        m2 = m2 + (g - mean_b).square().sum() + delta.square().sum() * (n_a * n_b / n)
        self.mean[name] += delta * (n_b / n)
    self.m2 = m2
    self.count = n


def gradient_variance_unbiased(per_sample):
    """torch's default variance: divisor N - 1."""
    if per_sample.shape[0] < 2:
        return 0.0
    return float(per_sample.flatten(1).var(0).sum())


def gradient_variance_per_coordinate_mean(per_sample):
    """Averages the per-coordinate variances instead of summing them."""
    return float(per_sample.flatten(1).var(0, unbiased=False).mean())


def gradient_variance_uncentred(per_sample):
    """The mean squared norm: the mean gradient is never subtracted."""
    return float(per_sample.flatten(1).square().sum(1).mean())


def gradient_variance_of_all_entries(per_sample):
    """One variance of all the numbers, as if they were one sample."""
    return float(per_sample.var(unbiased=False))


# -- Chapter 6 -----------------------------------------------------------------------------------------
def _matrices(weights):
    return [weights[..., k, :, :] for k in range(weights.shape[-3])] if isinstance(weights, torch.Tensor) else weights


def narrowest_nodes_transposed(weights, inputs):
    """Multiplies by W^T instead of W (y @ W instead of y @ W.T)."""
    nodes, y = [], inputs
    for w in _matrices(weights):
        y = y @ w if w.dim() == 2 else torch.einsum("scr,sc->sr", w, y)
        nodes.append(y)
    return torch.stack(nodes, dim=1)


def narrowest_nodes_with_the_input(weights, inputs):
    """Includes y^(0) = x as the first node: n + 1 nodes."""
    nodes, y = [inputs], inputs
    for w in _matrices(weights):
        y = y @ w.T if w.dim() == 2 else torch.einsum("src,sc->sr", w, y)
        nodes.append(y)
    return torch.stack(nodes, dim=1)


def narrowest_nodes_reversed_product(weights, inputs):
    """Multiplies the new matrix on the right: node k is W^(1) ... W^(k) x."""
    d = inputs.shape[-1]
    nodes, product = [], None
    for w in _matrices(weights):
        if w.dim() == 2:
            product = w if product is None else product @ w
            nodes.append(inputs @ product.T)
        else:
            product = w if product is None else torch.einsum("sab,sbc->sac", product, w)
            nodes.append(torch.einsum("src,sc->sr", product, inputs))
    del d
    return torch.stack(nodes, dim=1)


def narrowest_nodes_first_copy_only(weights, inputs):
    """With one copy of the weights per sample, uses the first sample's copy for every sample."""
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        weights = weights[0]
    nodes, y = [], inputs
    for w in _matrices(weights):
        y = y @ w.T
        nodes.append(y)
    return torch.stack(nodes, dim=1)


def _equation_4(problem, i, widest_grads, ks, left, right):
    from cellnas_edu.theory.cells import left_factor, right_factor
    from cellnas_edu.theory.gradients import widest_weight_gradients

    w = problem.weights
    g = widest_weight_gradients(problem) if widest_grads is None else widest_grads
    b = right_factor(w, i)
    terms = [left(left_factor(w, i, k)) @ g[:, k - 1] @ right(b) for k in ks]
    return torch.stack(terms).sum(0) if terms else torch.zeros_like(g[:, 0])


def equation_4_without_transpose(problem, i, widest_grads=None):
    """A_k instead of A_k^T on the left."""
    return _equation_4(problem, i, widest_grads, range(i, problem.n + 1), lambda a: a, lambda b: b.T)


def equation_4_b_untransposed(problem, i, widest_grads=None):
    """B instead of B^T on the right."""
    return _equation_4(problem, i, widest_grads, range(i, problem.n + 1), lambda a: a.T, lambda b: b)


def equation_4_without_the_last_block(problem, i, widest_grads=None):
    """Off by one: sums k = i..n-1."""
    return _equation_4(problem, i, widest_grads, range(i, problem.n), lambda a: a.T, lambda b: b.T)


def equation_4_from_the_next_block(problem, i, widest_grads=None):
    """Off by one: sums k = i+1..n (drops the block's own term)."""
    return _equation_4(problem, i, widest_grads, range(i + 1, problem.n + 1), lambda a: a.T, lambda b: b.T)


def _chain_jacobian(weights, i, block):
    from cellnas_edu.theory.cells import left_factor, right_factor

    b = right_factor(weights, i).numpy()
    return np.concatenate([block(left_factor(weights, i, k).numpy(), b) for k in range(i, weights.shape[0] + 1)])


def chain_jacobian_untransposed(weights, i):
    """kron(A_k, B) instead of kron(A_k, B^T): the column-major vec rule used with a row-major reshape."""
    return _chain_jacobian(weights, i, lambda a, b: np.kron(a, b))


def chain_jacobian_factors_swapped(weights, i):
    """kron(B^T, A_k): the factors in the other order."""
    return _chain_jacobian(weights, i, lambda a, b: np.kron(b.T, a))


def chain_jacobian_left_transposed(weights, i):
    """kron(A_k^T, B^T): both factors transposed, as in equation (4)."""
    return _chain_jacobian(weights, i, lambda a, b: np.kron(a.T, b.T))


def chain_jacobian_first_block_only(weights, i):
    """Only the block of V^(i): the later V^(k) are forgotten."""
    from cellnas_edu.theory.cells import right_factor

    return np.kron(np.eye(weights.shape[-1]), right_factor(weights, i).numpy().T)


def _bound(norms, i, sigmas, count, skip_i=True, square=True):
    norms = np.asarray(norms, dtype=float)
    total = 0.0
    for k in range(i, len(norms) + 1):
        factor = np.prod(norms[: i - 1]) * np.prod(norms[i:k]) if skip_i else np.prod(norms[:k])
        total += (sigmas[k - i] * factor) ** 2 if square else sigmas[k - i] * factor
    return float(count * total)


def variance_bound_tight_constant(norms, i, sigmas, n=None):
    """n - i + 1 in front (the Cauchy-Schwarz count of terms) instead of the theorem's n."""
    return _bound(norms, i, sigmas, len(norms) - i + 1 if n is None else n)


def variance_bound_keeps_lambda_i(norms, i, sigmas, n=None):
    """The product runs over every j <= k, lambda^(i) included."""
    return _bound(norms, i, sigmas, len(norms) if n is None else n, skip_i=False)


def variance_bound_not_squared(norms, i, sigmas, n=None):
    """Forgets to square the terms."""
    return _bound(norms, i, sigmas, len(norms) if n is None else n, square=False)


def variance_bound_ignores_n(norms, i, sigmas, n=None):
    """Always uses len(norms) in front, whatever the caller passes as n."""
    return _bound(norms, i, sigmas, len(norms))


# -- Chapter 7 -----------------------------------------------------------------------------------------
def adapt_first_operation_only(cell):
    """Rewires only the first operation of every node."""
    return cell.with_sources([0 if k % 2 == 0 else src for k, (_, src) in enumerate(cell.edges)])


def adapt_inputs_swapped(cell):
    """Operation 1 reads input 1 and operation 2 reads input 0."""
    return cell.with_sources([1 - k % 2 for k in range(len(cell.edges))])


def adapt_everything_from_node_0(cell):
    """Every operation reads input node 0."""
    return cell.with_sources([0] * len(cell.edges))


def adapt_concatenates_every_node(cell):
    """Rewires the sources right, then concatenates every node ("every node is a whole c")."""
    from cellnas_edu.cells.cellspec import CellSpec

    adapted = cell.with_sources([k % 2 for k in range(len(cell.edges))])
    return CellSpec(adapted.edges, tuple(cell.intermediate_nodes))


# -- Chapter 8 -----------------------------------------------------------------------------------------
def _derive(weights, operations=None, *, strength=None, best=None, order=None, check=True, steps=None):
    from cellnas_edu.cells.cellspec import CellSpec
    from cellnas_edu.search.derive import SEARCH_OPERATIONS

    operations = tuple(SEARCH_OPERATIONS if operations is None else operations)
    rows = [list(map(float, row)) for row in weights]
    if check:
        if "none" not in operations or len(operations) < 2:
            raise ValueError("bad candidates")
        if any(len(row) != len(operations) or not all(math.isfinite(v) for v in row) for row in rows):
            raise ValueError("bad row")
    keep = [o for o, name in enumerate(operations) if name != "none"]
    none = operations.index("none") if "none" in operations else -1
    strength = strength or (lambda row: max(row[o] for o in keep))
    best = best or (lambda row: max(keep, key=lambda o: (row[o], -o)))
    edges, start, node = [], 0, 0
    while (start < len(rows)) if steps is None else (node < steps):
        incoming = rows[start:start + NUM_INPUTS + node]
        if check and len(incoming) < NUM_INPUTS + node:
            raise ValueError("rows do not make a cell")
        kept = sorted(range(len(incoming)), key=lambda s: -strength(incoming[s]))[:2]
        for source in (order(kept) if order else kept):
            edges.append((operations[best(incoming[source])], source))
        start += NUM_INPUTS + node
        node += 1
    if check and not rows:
        raise ValueError("no rows")
    del none
    return CellSpec(edges, range(NUM_INPUTS, NUM_INPUTS + node))


def derive_cell_counting_none(weights, operations=None):
    """Ranks edges by their largest weight *including* `none` (then still never keeps `none`)."""
    return _derive(weights, operations, strength=max)


def derive_cell_last_of_tied_operations(weights, operations=None):
    """On a tie between operations keeps the later candidate (`>=` in the search for the best)."""
    from cellnas_edu.search.derive import SEARCH_OPERATIONS

    operations = tuple(SEARCH_OPERATIONS if operations is None else operations)
    keep = [o for o, name in enumerate(operations) if name != "none"]
    return _derive(weights, operations, best=lambda row: max(keep, key=lambda o: (row[o], o)))


def derive_cell_kept_edges_by_source(weights, operations=None):
    """Lists a node's two kept edges by source, not strongest first."""
    return _derive(weights, operations, order=sorted)


def derive_cell_never_raises(weights, operations=None):
    """Right on every matrix that makes a cell, but raises no `ValueError` for one that does not."""
    return _derive(weights, operations, check=False, steps=4)


def derive_cell_four_nodes_always(weights, operations=None):
    """Checks the rows, but always derives four nodes (14 rows), whatever the number of rows."""
    from cellnas_edu.search.derive import SEARCH_OPERATIONS

    operations = tuple(SEARCH_OPERATIONS if operations is None else operations)
    rows = [list(map(float, row)) for row in weights]
    if len(rows) < 14 or any(len(r) != len(operations) or not all(map(math.isfinite, r)) for r in rows):
        raise ValueError("weights do not make a cell")
    return _derive(rows[:14], operations)


def _tail(counts, observed, alternative, compare, denominator=None):
    from cellnas_edu.stats import convolve_counts

    dist = convolve_counts(counts, len(observed))
    t = sum(observed)
    hits = sum(c for s, c in dist.items() if compare(s, t, alternative))
    total = sum(counts.values()) ** len(observed) if denominator is None else denominator
    return Fraction(hits, total)


def sum_tail_strict(counts, observed, alternative):
    """A strict tail (> instead of >=): the observed sum itself is left out."""
    return _tail(counts, observed, alternative, lambda s, t, alt: s > t if alt == "greater" else s < t)


def sum_tail_swapped(counts, observed, alternative):
    """'greater' counts the sums at most the observed one, 'less' those at least it."""
    return _tail(counts, observed, alternative, lambda s, t, alt: s <= t if alt == "greater" else s >= t)


def sum_tail_divides_by_distinct_values(counts, observed, alternative):
    """Divides by (number of distinct values) ** S instead of (number of cells) ** S."""
    return _tail(counts, observed, alternative, lambda s, t, alt: s >= t if alt == "greater" else s <= t,
                 denominator=len(counts) ** len(observed))


def sum_tail_one_draw_against_the_mean(counts, observed, alternative):
    """One draw against the observed mean: no convolution (the S found cells are not summed)."""
    mean = Fraction(sum(observed), len(observed))
    hits = sum(c for v, c in counts.items() if (v >= mean if alternative == "greater" else v <= mean))
    return Fraction(hits, sum(counts.values()))


# -- Chapter 9 -----------------------------------------------------------------------------------------
def _nb201_paths():
    from cellnas_edu.nb201.cell import PATHS

    return PATHS


def nb201_live_edges_not_none(self):
    """Every edge that is not `none` counted live, also one that leads nowhere."""
    return tuple(op != "none" for op in self.ops)


def nb201_live_edges_reachable_from_input(self):
    """Live = not `none` and reachable from node 0 (forgets that it must also lead on to node 3)."""
    from cellnas_edu.nb201.operations import EDGES

    reached = {0}
    for to in (1, 2, 3):
        if any(frm in reached and self.op(to, frm) != "none" for frm in range(to)):
            reached.add(to)
    return tuple(frm in reached and self.op(to, frm) != "none" for to, frm in EDGES)


def nb201_live_edges_short_paths_only(self):
    """Walks the paths 0-3, 0-1-3 and 0-2-3 but forgets the long path 0-1-2-3."""
    from cellnas_edu.nb201.operations import EDGES

    live = set()
    for path in _nb201_paths():
        if len(path) <= 3 and all(self.op(b, a) != "none" for a, b in zip(path, path[1:])):
            live.update((b, a) for a, b in zip(path, path[1:]))
    return tuple(edge in live for edge in EDGES)


def nb201_width_not_none(self):
    """Counts the edges out of node 0 that are not `none`, live or dead."""
    return sum(self.op(to, 0) != "none" for to in (1, 2, 3))


def nb201_width_all_live_edges(self):
    """Counts every live edge, not only those leaving node 0."""
    return sum(self.live_edges)


def nb201_width_into_the_output(self):
    """Counts the live edges entering node 3 instead of those leaving node 0."""
    from cellnas_edu.nb201.operations import EDGES

    return sum(live for (to, _), live in zip(EDGES, self.live_edges) if to == 3)


def _live_path_lengths(self):
    return [len(p) - 1 for p in _nb201_paths() if all(self.op(b, a) != "none" for a, b in zip(p, p[1:]))]


def nb201_depth_shortest(self):
    """The shortest path over non-`none` edges instead of the longest."""
    lengths = _live_path_lengths(self)
    return min(lengths) if lengths else 0


def nb201_depth_counts_nodes(self):
    """Counts the nodes of the longest live path instead of its edges."""
    return max((n + 1 for n in _live_path_lengths(self)), default=0)


def nb201_depth_ignores_none(self):
    """The longest path of the DAG, `none` edges included."""
    return max(len(p) - 1 for p in _nb201_paths())


def nb201_depth_one_for_a_dead_cell(self):
    """Right for a trainable cell, but 1 instead of 0 when no live path joins input and output."""
    return max(_live_path_lengths(self), default=1)


def nb201_canonical_unpruned(self):
    """Compares the cell with its mirror image without pruning the dead edges first."""
    if self.op(2, 1) != "none":
        return self
    return min(self, self.swapped(), key=lambda cell: cell.codes)


def nb201_canonical_always_mirrors(self):
    """Takes the mirror image whenever it is an isomorphism, without comparing the codes."""
    pruned = self.pruned()
    return pruned if pruned.op(2, 1) != "none" else pruned.swapped()


def nb201_canonical_edge_of_the_unpruned_cell(self):
    """Asks whether the edge 1 -> 2 is `none` in the cell as given, not in the pruned cell."""
    pruned = self.pruned()
    if self.op(2, 1) != "none":
        return pruned
    return min(pruned, pruned.swapped(), key=lambda cell: cell.codes)


def nb201_canonical_by_string(self):
    """Picks the smaller architecture *string* instead of the smaller operation codes."""
    pruned = self.pruned()
    if pruned.op(2, 1) != "none":
        return pruned
    return min(pruned, pruned.swapped(), key=lambda cell: cell.to_arch_string())


WRONG = {
    "live_nodes": (live_nodes_concat_only, live_nodes_one_level, live_nodes_forward_order, live_nodes_any_reader,
                   live_nodes_with_inputs),
    "cell_width": (cell_width_all_nodes, cell_width_concat_only, cell_width_whole_nodes_only, cell_width_node_0_only),
    "cell_depth": (cell_depth_over_all_nodes, cell_depth_without_the_output, cell_depth_last_concat_node,
                   cell_depth_shortest),
    "enumeration_count": (enumeration_count_papers_formula, enumeration_count_node_reads_itself,
                          enumeration_count_unordered_pairs),
    "fraction_at_least_as_wide": (fraction_strictly_wider, fraction_zero_means_default,
                                  fraction_at_the_original_depth),
    "area_under_curve": (auc_divided_by_epochs, auc_not_divided, auc_ignores_epochs, auc_without_errors),
    "spearman_exact_pvalue": (spearman_strict, spearman_tails_swapped, spearman_values_not_ranks),
    "filter_normalize": (filter_normalize_globally, filter_normalize_copy, filter_normalize_without_epsilon,
                         filter_normalize_columns, filter_normalize_no_shape_check),
    "chan_update": (chan_shortcut, chan_without_the_cross_term, chan_mean_of_means, chan_m2_overwritten),
    "gradient_variance": (gradient_variance_unbiased, gradient_variance_per_coordinate_mean,
                          gradient_variance_uncentred, gradient_variance_of_all_entries),
    "narrowest_nodes": (narrowest_nodes_transposed, narrowest_nodes_with_the_input, narrowest_nodes_reversed_product,
                        narrowest_nodes_first_copy_only),
    "equation_4": (equation_4_without_transpose, equation_4_b_untransposed, equation_4_without_the_last_block,
                   equation_4_from_the_next_block),
    "chain_jacobian": (chain_jacobian_untransposed, chain_jacobian_factors_swapped, chain_jacobian_left_transposed,
                       chain_jacobian_first_block_only),
    "variance_bound": (variance_bound_tight_constant, variance_bound_keeps_lambda_i, variance_bound_not_squared,
                       variance_bound_ignores_n),
    "adapt_cell": (adapt_first_operation_only, adapt_inputs_swapped, adapt_everything_from_node_0,
                   adapt_concatenates_every_node),
    "derive_cell": (derive_cell_counting_none, derive_cell_last_of_tied_operations, derive_cell_kept_edges_by_source,
                    derive_cell_never_raises, derive_cell_four_nodes_always),
    "sum_tail": (sum_tail_strict, sum_tail_swapped, sum_tail_divides_by_distinct_values,
                 sum_tail_one_draw_against_the_mean),
    "nb201_live_edges": (nb201_live_edges_not_none, nb201_live_edges_reachable_from_input,
                         nb201_live_edges_short_paths_only),
    "nb201_width": (nb201_width_not_none, nb201_width_all_live_edges, nb201_width_into_the_output),
    "nb201_depth": (nb201_depth_shortest, nb201_depth_counts_nodes, nb201_depth_ignores_none,
                    nb201_depth_one_for_a_dead_cell),
    "nb201_canonical": (nb201_canonical_unpruned, nb201_canonical_always_mirrors,
                        nb201_canonical_edge_of_the_unpruned_cell, nb201_canonical_by_string),
}
"""Every exercise's plausible wrong solutions; the first of each is the one the course page's example uses."""
