r"""The exercises of `cellnas exercises`: what to write, where it lives in the package, which checks grade it.

An [`Exercise`][cellnas_edu.exercises.catalog.Exercise] names a **target**, the package function (or method,
`Class.name`) that the
learner re-implements, and the **checks** that grade it: `module::test` ids of the property and
example tests in [`cellnas_edu.exercises.checks`][cellnas_edu.exercises.checks]. The grader swaps the learner's
function in for
the target and runs exactly those tests. The stub's docstring (the claim, the paper's section and the
definitions needed) is `Exercise.statement`, in Markdown with `$...$` math."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

CHECKS = "cellnas_edu.exercises.checks"


@dataclass(frozen=True)
class Exercise:
    name: str
    chapter: int
    title: str
    target: str  # "module:function" or "module:Class.method"
    checks: tuple[str, ...]  # "chN_module::test_name" (module relative to cellnas_edu.exercises.checks)
    statement: str
    hint: str
    imports: tuple[str, ...] = field(default=())
    """import lines the stub needs beyond those the package's solution uses (helpers the statement names)"""

    @property
    def module_name(self) -> str:
        return self.target.split(":")[0]

    @property
    def qualname(self) -> str:
        return self.target.split(":")[1]

    @property
    def function_name(self) -> str:
        return self.qualname.split(".")[-1]

    @property
    def is_method(self) -> bool:
        return "." in self.qualname

    def owner(self):
        """The module or class that holds the target (where the swap happens)."""
        obj = importlib.import_module(self.module_name)
        for part in self.qualname.split(".")[:-1]:
            obj = getattr(obj, part)
        return obj

    @property
    def is_property(self) -> bool:
        """Whether the target is a property (`cell.width`): the learner writes its getter, a function of `self`."""
        return self.is_method and isinstance(self.owner().__dict__[self.function_name], property)

    def reference(self):
        """The package's own implementation (a plain function, also for methods and a property's getter)."""
        target = self.owner().__dict__[self.function_name]
        return target.fget if isinstance(target, property) else target

    def check_ids(self) -> list[str]:
        return [f"{CHECKS}.{c}" for c in self.checks]


def _ex(name, chapter, title, target, checks, statement, hint, imports=()) -> Exercise:
    return Exercise(name, chapter, title, target, tuple(checks), statement.strip("\n"), hint.strip(), tuple(imports))


EXERCISES: tuple[Exercise, ...] = (
    # ---------------------------------------------------------------- Chapter 1
    _ex("live_nodes", 1, "Live nodes", "cellnas_edu.cells.cellspec:CellSpec.live_nodes",
        ["ch1_cells::test_live_nodes_are_those_with_a_path_to_the_output",
         "ch1_cells::test_depth_2_cells_have_integer_width_equal_to_concat",
         "ch1_cells::test_live_nodes_of_the_adapted_amoebanet",
         "ch1_cells::test_live_nodes_of_amoebanet"],
        r"""
Intermediate nodes of `self` with a path to the output node (Section 3.2, Figure 25).

A cell (DARTS convention, Section 3.1) has input nodes $0, 1$ and intermediate nodes
$2, \dots, n+1$; node $j$ has two operations, `self.node_inputs(j)` gives their
`(op, source)` pairs, every source is $< j$. The output node concatenates the nodes in
`self.concat`.

**Definition.** A node is *live* if it is in `concat`, or if it is a source of a live node.
Every other node is *dead*: it cannot affect the output, so width and depth ignore it.
That is why the adapted AmoebaNet cell of Figure 25(b) is $3c$ wide: its nodes 2 and 3
feed nothing after adaptation and are not concatenated.

Returns a `frozenset` of node numbers (intermediate nodes only, never 0 or 1).
""",
        "Walk the intermediate nodes in reverse order (`reversed(self.intermediate_nodes)`): when you reach a "
        "node, every node that reads from it has already been decided."),
    _ex("cell_width", 1, "Cell width", "cellnas_edu.cells.topology:cell_width",
        ["ch1_cells::test_width_is_the_definition",
         "ch1_cells::test_width_is_a_multiple_of_half_c_and_bounded_by_live_nodes",
         "ch1_cells::test_half_integer_width_needs_depth_3",
         "ch1_cells::test_depth_2_cells_have_integer_width_equal_to_concat",
         "ch1_cells::test_width_of_the_paper_cells"],
        r"""
Width of `cell` in units of $c$ (Section 3.2), as an exact `fractions.Fraction`.

**Definition (Section 3.2).** Every intermediate node has width $c$; a node that is
"partially connected to input nodes" loses the share of its operations that read
intermediate nodes. With two operations per node:

$$\mathrm{width} = c \sum_{j\ \text{live}} \frac{\#\{\text{operations of } j \text{ reading node 0 or 1}\}}{2}$$

The sum runs over **live** nodes only (`cell.live_nodes()`): the reading that reproduces
Figures 1, 2, 10, 11, 25 and Table 2 (DARTS: $3.5c$, AmoebaNet: $4c$, NASNet: $5c$).
`NUM_INPUTS = 2` inputs; `cell.node_inputs(j)` gives node $j$'s `(op, source)` pairs.
""",
        "Two live nodes fed by inputs only and one fed by an input and a node: 1 + 1 + 1/2 = 2.5c. Dead nodes "
        "count 0 (the literal reading that counts them gives the adapted AmoebaNet 5c instead of Figure 25's 3c)."),
    _ex("cell_depth", 1, "Cell depth", "cellnas_edu.cells.topology:cell_depth",
        ["ch1_cells::test_depth_is_the_longest_path",
         "ch1_cells::test_depth_at_least_2_and_at_most_a_chain",
         "ch1_cells::test_half_integer_width_needs_depth_3",
         "ch1_cells::test_depth_of_the_paper_cells"],
        r"""
Depth of `cell` (Section 3.2): the number of connections on the longest path from an input
node to the output node.

**Definition.** Input nodes have depth $0$; intermediate node $j$ has depth
$1 + \max(\text{depth of its two sources})$; the output node adds one connection from
each concatenated node:

$$\mathrm{depth}(\text{cell}) = 1 + \max_{j \in \text{concat}} \mathrm{depth}(j).$$

So $2 \le$ depth $\le n + 1$. Figure 1: NASNet and ENAS have depth 2, DARTS 3, AmoebaNet 4.
""",
        "Nodes are numbered in topological order (every source precedes its node), so one forward pass over "
        "`cell.intermediate_nodes` with a dict {node: depth} is enough."),
    # ---------------------------------------------------------------- Chapter 2
    _ex("enumeration_count", 2, "The size of the connection space", "cellnas_edu.cells.space:enumeration_count",
        ["ch2_space::test_count_by_brute_force",
         "ch2_space::test_count_is_the_square_of_the_papers_formula",
         "ch2_space::test_count_of_the_popular_cells"],
        r"""
Number of connection variants of `cell` (Appendix A.2), the original included.

A connection variant keeps every operation, its node and `concat`, and redraws the
source of each operation among the nodes that precede its node: operation $k$ (0-based,
`cell.edges[k]`) belongs to node $j = 2 + \lfloor k/2 \rfloor$ and has $j$ possible sources
$0, \dots, j-1$. Appendix A.2 states $(N-2)!/(M-1)!$ for a cell of $N$ nodes and $M$ inputs
(one source per node); with two operations per node the space is its square. DARTS
(4 intermediate nodes): $14{,}400$; NASNet (5): $518{,}400$.

Returns an `int`.
""",
        "Multiply one radix per operation, not one per node."),
    _ex("fraction_at_least_as_wide", 2, "The fraction at least as wide",
        "cellnas_edu.cells.space:ConnectionSpace.fraction_at_least_as_wide",
        ["ch2_space::test_fraction_at_least_as_wide_by_brute_force",
         "ch2_space::test_fraction_is_one_at_zero_and_zero_beyond_the_widest",
         "ch2_space::test_fraction_of_the_darts_and_nasnet_cells"],
        r"""
Fraction of the connection space whose width is $\ge$ `width` (Table 2's caption: the
popular cells are among the widest of their spaces).

`self` is a `ConnectionSpace`: `self.count` variants in all, `self.histogram` a tuple of
bins with `.width` (a `Fraction`, units of $c$), `.depth` and `.count` (how many variants
have that width and depth), `self.original.width` the width of the cell itself.
`width=None` means the original cell's width; otherwise convert with `Fraction(width)`.

Returns a `float` in $[0, 1]$: DARTS, $1{,}792$ of $14{,}400$ variants are at least
$3.5c$ wide.
""",
        "Sum the counts of the bins with width >= the threshold (bins of every depth) and divide by self.count."),
    # ---------------------------------------------------------------- Chapter 3
    _ex("area_under_curve", 3, "Area under the loss curve", "cellnas_edu.convergence.stats:area_under_curve",
        ["ch3_stats::test_auc_by_hand",
         "ch3_stats::test_auc_of_a_constant_curve_is_the_constant",
         "ch3_stats::test_auc_with_uneven_epochs_is_the_trapezoid_rule",
         "ch3_stats::test_auc_refuses_a_curve_without_a_span",
         "ch3_stats::test_faster_curve_has_smaller_auc"],
        r"""
Area under a per-epoch curve by the trapezoid rule, divided by the epoch span, so that it
is a mean loss (Section 4.1: convergence speed over the whole run, not only its end point).

With epochs $e_1 < \dots < e_E$ (default $1, \dots, E$) and values $v_1, \dots, v_E$:

$$\mathrm{AUC} = \frac{1}{e_E - e_1} \sum_{k=1}^{E-1} (e_{k+1} - e_k)\,\frac{v_k + v_{k+1}}{2},$$

and a single value is its own AUC. A constant curve $v$ has AUC $v$; `[3, 1]` gives $2$.
Raise `ValueError` for an empty sequence, for `epochs` of another length than `values`, and
for epochs whose last is not after the first (a span $e_E - e_1 \le 0$: `[3, 2, 1]`, `[2, 2]`).
""",
        "Forgetting to divide by the span gives E - 1 times the right answer; dividing by E instead is also "
        "wrong (a constant curve would not have AUC equal to its value)."),
    _ex("spearman_exact_pvalue", 3, "Exact p-value of Spearman's rho",
        "cellnas_edu.exercises.reference:spearman_exact_pvalue",
        ["ch3_stats::test_exact_pvalue_is_the_brute_force_pvalue",
         "ch3_stats::test_perfect_ranks_of_five",
         "ch3_stats::test_one_sided_pvalues_cover_everything"],
        r"""
Exact permutation p-value of Spearman's $\rho$ between `x` and `y` (no ties, $3 \le n \le 8$).

Section 4.1 correlates width/depth with convergence over a handful of cells; with so few
points the large-sample p-value is an approximation, while the permutation test is exact.
Rank both samples ($1..n$); with $d_i$ the rank differences,

$$\rho = 1 - \frac{6 \sum_i d_i^2}{n(n^2 - 1)}.$$

Under the null hypothesis all $n!$ orderings of `y`'s ranks against `x`'s are equally
likely. The p-value is the fraction of the $n!$ permutations whose $\rho$ is $\ge$ the observed
one (`alternative="greater"`), $\le$ (`"less"`), or at least as large in absolute value
(`"two-sided"`). Perfect order, $n = 5$: one-sided $p = 1/120$.
""",
        "Compare integers, not floats: T = n(n^2-1) - 6 sum d^2 is proportional to rho, and float rhos that "
        "should tie can differ in the last bit. Count the observed permutation itself (p > 0)."),
    # ---------------------------------------------------------------- Chapter 4
    _ex("filter_normalize", 4, "A filter-normalised direction", "cellnas_edu.landscape.directions:filter_normalize_",
        ["ch4_directions::test_every_filter_gets_the_norm_of_the_weights_filter",
         "ch4_directions::test_every_filter_keeps_its_direction",
         "ch4_directions::test_normalisation_is_in_place",
         "ch4_directions::test_shape_mismatch_is_an_error"],
        r"""
Rescale each filter of `direction` **in place** to the norm of the same filter of `weight`
(Section 4.2.1, following Li et al., 2018) and return `direction`.

A *filter* is a row along dimension 0 (`t.reshape(t.shape[0], -1)[j]`); a 0-d tensor is a
single filter. With $d_j$ filter $j$ of the direction and $w_j$ that of the weights,

$$d_j \leftarrow \frac{d_j}{\lVert d_j \rVert + \varepsilon}\,\lVert w_j \rVert, \qquad \varepsilon = 10^{-10},$$

so an all-zero filter stays zero. Raise `ValueError` when the shapes differ.
""",
        "`reshape` returns a view of a contiguous tensor: multiply the rows of the view in place (`mul_`). "
        "Normalising the whole tensor at once (one global norm) is the classic wrong answer."),
    # ---------------------------------------------------------------- Chapter 5
    _ex("chan_update", 5, "Chan's merge of chunked variances", "cellnas_edu.landscape.gradvar:ChanAccumulator.update",
        ["ch5_variance::test_chan_merge_equals_two_pass_variance",
         "ch5_variance::test_chan_merge_over_several_tensors",
         "ch5_variance::test_chan_is_stable_where_the_shortcut_formula_fails"],
        r"""
Merge one chunk of per-sample gradients into the running statistics of `self` with Chan et
al.'s parallel update (Section 4.2.2: $g(w)$ is accumulated chunk by chunk).

`self.count` ($n_A$, samples so far), `self.mean` (`{name: float64 tensor}`, the running
mean $\bar g_A$) and `self.m2` (a float64 0-d tensor, $M_{2,A} = \sum_i \lVert g_i - \bar g_A \rVert^2$
summed over all tensors). A new accumulator, `ChanAccumulator(params)`, starts with `count = 0`,
`m2` a float64 0-d tensor holding 0, and `mean[name]` a float64 tensor of **zeros** of
`params[name]`'s shape: a placeholder, not a mean of anything (with $n_A = 0$ the update below
makes it $\bar g_B$ whatever it held). Keep `mean` float64 and of that shape. `chunk_grads`
maps each name to a tensor of shape `(n_B, *shape)`, float32 or float64. With the chunk's mean
$\bar g_B$ and $M_{2,B}$, $\delta = \bar g_B - \bar g_A$:

$$M_2 = M_{2,A} + M_{2,B} + \lVert \delta \rVert^2 \frac{n_A n_B}{n_A + n_B}, \qquad
\bar g = \bar g_A + \delta\,\frac{n_B}{n_A + n_B}.$$

Update `self.count`, `self.mean` and `self.m2`; return nothing. `self.trace()` is then
`m2 / count`, the population variance. `consume=True` allows overwriting `chunk_grads`.
""",
        "Compute M_2,B from deviations about the chunk's own mean, never as sum ||g||^2 - n ||mean||^2: in float32 "
        "with a large mean that difference cancels catastrophically."),
    _ex("gradient_variance", 5, "Per-sample gradient variance", "cellnas_edu.theory.variance:gradient_variance",
        ["ch5_variance::test_gradient_variance_is_the_trace_of_the_covariance",
         "ch5_variance::test_gradient_variance_ignores_a_common_shift",
         "ch5_variance::test_gradient_variance_by_hand"],
        r"""
The gradient variance of Section 4.2.2 / Theorem 4.1's $\sigma^2$ from per-sample gradients
`per_sample` of shape `(N, ...)`: the trace of the covariance, population divisor $N$,

$$\frac{1}{N} \sum_{s=1}^{N} \lVert g_s - \bar g \rVert_F^2, \qquad \bar g = \frac1N \sum_s g_s.$$

Returns a Python `float`. Two samples $(0, 0)$ and $(2, 2)$: $2$.
""",
        "Sum the squared deviations over every coordinate of a sample (Frobenius norm), average over samples; "
        "`torch.var` divides by N - 1 and works per coordinate."),
    # ---------------------------------------------------------------- Chapter 6
    _ex("narrowest_nodes", 6, "The narrowest cell's forward pass", "cellnas_edu.theory.cells:narrowest_nodes",
        ["ch6_theory::test_narrowest_nodes_are_the_chain",
         "ch6_theory::test_narrowest_nodes_with_per_sample_weights_and_lists"],
        r"""
Nodes of the narrowest linear cell (Figure 26, case II; Appendix C.1) for a batch:

$$\hat y^{(0)} = x, \qquad \hat y^{(k)} = W^{(k)} \hat y^{(k-1)} = W^{(k)} \cdots W^{(1)} x .$$

`weights` is `(n, d, d)` (shared), `(N, n, d, d)` (one copy per sample) or a list of `n`
`(d, d)` tensors; `inputs` is `(N, d)` (one sample per row). Returns `(N, n, d)`:
`out[s, k - 1]` is $\hat y^{(k)}$ of sample $s$. Keep it differentiable (torch only).
""",
        "For a row vector batch, W y is `y @ W.T`. With per-sample copies use `torch.einsum('src,sc->sr', w, y)`."),
    _ex("equation_4", 6, "Equation (4)", "cellnas_edu.theory.gradients:equation_4_rhs",
        ["ch6_theory::test_equation_4_equals_autograd_sample_by_sample"],
        r"""
Right-hand side of equation (4) (Appendix C.2) for block `i` (1-based), per sample:

$$\frac{\partial \hat f}{\partial W^{(i)}} = \sum_{k=i}^{n} A_k^T \,\frac{\partial f}{\partial W^{(k)}}\, B^T,
\qquad A_k = W^{(k)} \cdots W^{(i+1)},\quad B = W^{(i-1)} \cdots W^{(1)},$$

where $\partial f / \partial W^{(k)}$ is the **widest** cell's gradient at the identified point
$V^{(k)} = W^{(k)} \cdots W^{(1)}$. `problem.weights` is `(n, d, d)`; `widest_grads`
(`(N, n, d, d)`) defaults to `widest_weight_gradients(problem)`; `left_factor(w, i, k)` and
`right_factor(w, i)` build $A_k$ and $B$. Returns `(N, d, d)`.
""",
        "Both factors appear transposed. Sum over k = i..n inclusive.",
        ["import torch", "from cellnas_edu.theory.cells import left_factor, right_factor",
         "from cellnas_edu.theory.gradients import widest_weight_gradients"]),
    _ex("chain_jacobian", 6, "The J of J^T H J", "cellnas_edu.theory.hessian:chain_jacobian",
        ["ch6_theory::test_chain_jacobian_maps_a_change_of_w_i_to_the_changes_of_v_k",
         "ch6_theory::test_block_hessian_is_j_transpose_h_j"],
        r"""
The Jacobian $J$ of $W^{(i)} \mapsto (V^{(i)}, \dots, V^{(n)})$, $V^{(k)} = A_k W^{(i)} B$, as a
numpy array of shape `(m*d*d, d*d)`, $m = n - i + 1$ (Section 4.3.2, Theorem 4.2's proof).

The map is linear, so the narrowest cell's block Hessian is exactly $J^T H J$, $H$ the widest
cell's Hessian in $(V^{(i)}, \dots, V^{(n)})$: no curvature term. With row-major vectorisation
$\mathrm{vec}(A \Delta B) = (A \otimes B^T)\,\mathrm{vec}(\Delta)$, $J$ stacks the blocks
$A_k \otimes B^T$ for $k = i, \dots, n$. `weights` is a `(n, d, d)` tensor; `left_factor`,
`right_factor` give $A_k$, $B$ as tensors (`.numpy()`), `np.kron` the Kronecker product.
""",
        "Check the vectorisation on a 2x2 example by hand: numpy's reshape(-1) is row-major, so the right factor "
        "enters transposed."),
    _ex("variance_bound", 6, "Theorem 4.3's bound", "cellnas_edu.theory.variance:variance_bound",
        ["ch6_theory::test_variance_bound_is_equation_13",
         "ch6_theory::test_variance_bound_of_the_jordan_block",
         "ch6_theory::test_variance_bound_of_block_1_by_hand",
         "ch6_theory::test_theorem_4_3_holds_with_spectral_norms"],
        r"""
Right-hand side of Theorem 4.3's bound (13) (Section 4.3.2, Appendix C.4):

$$n \sum_{k=i}^{n} \Big( \sigma^{(k)} \prod_{j \le k,\ j \ne i} \lambda^{(j)} \Big)^2 ,$$

the paper's $\frac{\sigma^{(k)}}{\lambda^{(i)}} \prod_{j=1}^{k} \lambda^{(j)}$ written without the
division (so $\lambda^{(i)} = 0$ is fine). `norms` are $\lambda^{(1)}, \dots, \lambda^{(n)}$,
`sigmas[k - i]` is $\sigma^{(k)}$, `i` is 1-based; `n` (the leading factor) defaults to
`len(norms)`. Returns a `float`.
""",
        "The factor in front is n, not n - i + 1 (unless the caller passes it), and the product starts at j = 1."),
    # ---------------------------------------------------------------- Chapter 7
    _ex("adapt_cell", 7, "The SNAS-pattern adaptation", "cellnas_edu.cells.adaptation:adapt_cell",
        ["ch7_adaptation::test_adaptation_never_deepens",
         "ch7_adaptation::test_adapted_width_is_the_concat_size",
         "ch7_adaptation::test_adaptation_never_narrows_a_fully_concatenated_cell",
         "ch7_adaptation::test_adaptation_keeps_operations_concat_and_partial_order",
         "ch7_adaptation::test_adaptation_reproduces_figure25"],
        r"""
The widest-and-shallowest adaptation of one cell (Section 5, Figure 25): apply the
connection pattern of the SNAS normal cell (Figure 1(e)), in which operation 1 of every
intermediate node reads input node 0 and operation 2 reads input node 1:

    node j: (op_a, s_a), (op_b, s_b)   ->   (op_a, 0), (op_b, 1)

Operations, their positions and `concat` stay. Every live node is then a whole $c$ and the
depth is 2. `cell.with_sources(sources)` returns a copy with new sources (one per operation,
in `cell.edges` order). Returns a `CellSpec`.
""",
        "Operation k of the cell (0-based, over all nodes) is operation k % 2 of its node."),
    # ---------------------------------------------------------------- Chapter 8
    _ex("derive_cell", 8, "DARTS' derivation rule", "cellnas_edu.search.derive:derive_cell",
        ["ch8_search::test_derivation_matches_darts_parse_including_ties",
         "ch8_search::test_a_derived_cell_never_keeps_none_and_reads_two_distinct_nodes",
         "ch8_search::test_none_never_wins_even_when_it_dominates_every_edge",
         "ch8_search::test_weights_that_do_not_make_a_cell_raise_value_error"],
        r"""
The discrete cell of a DARTS search (Liu et al., 2019; Chapter 8). `weights` has one row per edge, node
by node: node 2 reads nodes 0, 1; node 3 reads 0, 1, 2; node 4 reads 0..3; and so on (DARTS' four nodes:
2 + 3 + 4 + 5 = 14 rows; $k$ nodes: $2 + 3 + \dots + (k + 1)$ rows). It has one column per candidate of
`operations` (default `SEARCH_OPERATIONS`, whose column `NONE_INDEX` is `none`). For every intermediate
node keep the **two** incoming edges whose largest non-`none` weight is largest, and on each kept edge the
non-`none` operation of largest weight. Ties: the lower source first, the earlier candidate first. The kept
edges of a node are listed strongest first. Return `CellSpec(edges, concat)` with `edges` a list of
`(op, source)` and `concat` every intermediate node (`(2, 3, 4, 5)` for 14 rows).

Weights that do not make a cell raise `ValueError`: a number of rows that is not $2 + 3 + \dots + (k + 1)$
for any $k \ge 1$ (no rows, 13 rows, 15 rows), a row whose length is not the number of candidates, or a
weight that is not finite (`nan`, `inf`). So do `operations` without `none` or with nothing besides it.
""",
        "A stable sort on minus the strength keeps the lower source first on ties.",
        imports=("from cellnas_edu.search.derive import NONE_INDEX, SEARCH_OPERATIONS",)),
    _ex("sum_tail", 8, "An exact p-value against the space", "cellnas_edu.search.against_space:sum_tail",
        ["ch8_search::test_sum_tail_is_the_brute_force_tail",
         "ch8_search::test_six_cells_at_the_maximum_width"],
        r"""
How surprising are the found cells if the search had drawn them at random from the space?
`counts` maps each value (a half-width, or a depth) to how many cells of the space have it;
`observed` holds the values of the $S$ found cells. Under the null the $S$ values are independent
draws from `counts`, so their sum has the $S$-fold convolution of the distribution. Return, as an
exact `fractions.Fraction`, $P(\sum_s X_s \geq \sum \text{observed})$ when `alternative` is
`"greater"` and $P(\sum_s X_s \leq \sum \text{observed})$ when it is `"less"`.
""",
        "Convolve a dictionary {sum: number of ways} S times, then count the ways in the tail; divide by "
        "total ** S."),
    # ---------------------------------------------------------------- Chapter 9
    _ex("nb201_live_edges", 9, "Live edges of a NAS-Bench-201 cell", "cellnas_edu.nb201.cell:NB201Cell.live_edges",
        ["ch9_nb201::test_live_edges_are_those_on_a_path_from_input_to_output",
         "ch9_nb201::test_live_edges_of_dead_ends"],
        r"""
Which of the six edges of `self` are live (Chapter 9; Section 3.2's pruning carried over to edge cells).

A NAS-Bench-201 cell has nodes $0$ (input), $1$, $2$ and $3$ (output) and one operation on each edge
$i \to j$, $i < j$; `self.ops` lists them in architecture-string order, `EDGES[k] = (to, from)`:
$(1,0), (2,0), (2,1), (3,0), (3,1), (3,2)$. `self.op(to, frm)` gives one edge's operation.
The operation `none` is the zero map: it cuts the edge.

**Definition.** An edge is *live* if it is not `none` and lies on a path from node $0$ to node $3$ all of
whose edges are not `none`. Every other edge cannot change the output.

This is a property of the cell: write it as a function of `self` returning a tuple of six booleans in
`EDGES` order.
""",
        "There are only four paths from 0 to 3 (0-3, 0-1-3, 0-2-3, 0-1-2-3): an edge is live if one of the paths "
        "through it has no `none`. An edge out of node 0 into a node with no way on to node 3 is dead.",
        imports=()),
    _ex("nb201_width", 9, "Width of a NAS-Bench-201 cell", "cellnas_edu.nb201.cell:NB201Cell.width",
        ["ch9_nb201::test_width_is_the_live_edges_leaving_the_input",
         "ch9_nb201::test_width_of_the_all_skip_cell_and_of_a_dead_cell"],
        r"""
The width of `self` (Chapter 9): the number of **live** edges leaving the input node $0$ (edges
$1 \leftarrow 0$, $2 \leftarrow 0$, $3 \leftarrow 0$), so $0 \le$ width $\le 3$.

Section 3.2 counts the operations that read the cell's inputs; on an edge cell those are the edges out of
node $0$, and only live ones count (`self.live_edges`, in `EDGES` order, tells which are). A property:
write it as a function of `self` returning an `int`.
""",
        "Zip `EDGES` with `self.live_edges` and count the live edges whose source is 0. DARTS' all-skip cell "
        "has width 3.",
        imports=()),
    _ex("nb201_depth", 9, "Depth of a NAS-Bench-201 cell", "cellnas_edu.nb201.cell:NB201Cell.depth",
        ["ch9_nb201::test_depth_is_the_longest_live_path",
         "ch9_nb201::test_depth_of_the_chain_beside_the_direct_edge",
         "ch9_nb201::test_depth_of_the_direct_edge_alone"],
        r"""
The depth of `self` (Chapter 9): the number of edges on the **longest** path from node $0$ to node $3$
whose edges are all not `none`; $0$ if there is no such path (the cell's output is then identically zero).
So depth is $0$, $1$, $2$ or $3$. A property: write it as a function of `self` returning an `int`.
""",
        "Longest, not shortest: a cell with the direct edge 0-3 and the chain 0-1-2-3 has depth 3. "
        "`self.op(to, frm)` gives the operation of one edge.",
        imports=()),
    _ex("nb201_canonical", 9, "The live-graph canonical form", "cellnas_edu.nb201.cell:NB201Cell.canonical",
        ["ch9_nb201::test_canonical_forms_are_equal_exactly_for_isomorphic_live_graphs",
         "ch9_nb201::test_canonical_form_is_an_isomorphic_pruned_cell_and_keeps_width_and_depth",
         "ch9_nb201::test_the_exchange_is_taken_when_it_gives_the_smaller_codes",
         "ch9_nb201::test_canonical_form_of_a_mirrored_pair"],
        r"""
One representative per class of cells that compute the same function family (Chapter 9), so that
isomorphic duplicates do not inflate $n$.

1. Prune: set every dead edge to `none` (`self.pruned()` does it; `self.live_edges` says which are dead).
2. If the pruned cell has no edge $1 \to 2$ (`pruned.op(2, 1) == "none"`), exchanging the intermediate nodes
   $1$ and $2$ is an isomorphism: `pruned.swapped()` is the mirror image. Return whichever of the pruned cell
   and its mirror image has the smaller `codes` (a tuple of operation indices; Python compares tuples
   lexicographically).
3. Otherwise return the pruned cell: exchanging the nodes would turn the edge $1 \to 2$ backwards.

Returns an `NB201Cell`.
""",
        "Prune first, then compare: two cells that differ only in a dead edge must get the same form.",
        imports=()),
)

BY_NAME: dict[str, Exercise] = {e.name: e for e in EXERCISES}

CHAPTERS: dict[int, str] = {
    1: "Width and depth (Section 3.2)",
    2: "The connection space (Appendix A.2, Table 2)",
    3: "Convergence statistics (Section 4.1)",
    4: "Loss landscapes (Section 4.2.1)",
    5: "Gradient variance (Section 4.2.2)",
    6: "Theory (Section 4.3, Appendix C)",
    7: "The adaptation (Section 5)",
    8: "Running a search (DARTS; Sections 3 and 4.1)",
    9: "NAS-Bench-201's trained cells (Sections 3.2 and 5 at paper scale)",
}


def get_exercise(name: str) -> Exercise:
    from ..errors import UserError

    try:
        return BY_NAME[name]
    except KeyError:
        raise UserError(f"unknown exercise {name!r}; 'cellnas exercises list' shows the {len(EXERCISES)} exercises")\
            from None
