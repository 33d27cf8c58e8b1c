"""`cellnas adapt NAME`: the widest-and-shallowest adaptation of both cells (Section 5, Figure 25).

Applies the SNAS connection pattern (operation 1 of every node reads input 0,
operation 2 reads input 1) to the normal and the reduction cell, and reports
width and depth before and after. `-o` saves the adapted genotype as JSON."""

from __future__ import annotations

from ..cells.adaptation import adapt
from ..cells.genotypes import resolve_genotype, save_genotype
from ..cells.topology import Topology
from . import emit_json, path_arg


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="built-in architecture (see 'cellnas cells') or genotype .json")
    parser.add_argument("-o", "--output", type=path_arg,
                        metavar="FILE.json", help="write the adapted genotype to this file")
    parser.add_argument("--json", action="store_true", help="print before/after and the adapted genotype as JSON")


def _topology_json(cell) -> dict:
    topology = Topology.of(cell)
    return {"width": float(topology.width), "depth": topology.depth}


def run(args) -> int:
    genotype = resolve_genotype(args.name)
    name = genotype.name or args.name
    adapted = adapt(genotype, name=f"{name}_ADAPT" if not genotype.name else None)
    if args.output:
        save_genotype(adapted, args.output)
    cells = [
        {"cell": kind, "before": _topology_json(genotype.cell(kind)), "after": _topology_json(adapted.cell(kind))}
        for kind in ("normal", "reduce")
    ]
    if args.json:
        emit_json({"name": name, "adapted_name": adapted.name, "cells": cells, "genotype": adapted.to_dict()})
        return 0
    print(f"{name} -> {adapted.name} (SNAS connection pattern, Section 5)")
    for kind in ("normal", "reduce"):
        before, after = Topology.of(genotype.cell(kind)), Topology.of(adapted.cell(kind))
        dead = sorted(adapted.cell(kind).dead_nodes())
        note = f"  (dead after adaptation: nodes {', '.join(map(str, dead))})" if dead else ""
        print(f"  {kind:<6}  {before.label():>8}  ->  {after.label()}{note}")
    if args.output:
        print(f"written: {args.output}")
    return 0
