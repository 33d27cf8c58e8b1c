"""MkDocs hook: the search index holds formulas as readable text, not TeX.

pymdownx.arithmatex leaves every formula in the page as TeX between ``\\(...\\)`` or ``\\[...\\]`` for KaTeX
to typeset in the browser; the search plugin indexes that raw TeX, so a search result would show
``\\(\\lVert \\bar g \\rVert^2\\)``. After the build this hook rewrites each formula of
``search/search_index.json`` into plain text (``‖ḡ‖^2``-like: Greek letters and common symbols as Unicode,
``\\frac{a}{b}`` as ``a/b``, font and spacing commands dropped). The pages themselves are unchanged.
Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "sum": "Σ", "prod": "Π", "partial": "∂",
    "nabla": "∇", "infty": "∞", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "sim": "~", "propto": "∝", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆",
    "cup": "∪", "cap": "∩", "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦", "Rightarrow": "⇒",
    "times": "×", "cdot": "·", "circ": "∘", "otimes": "⊗", "pm": "±", "mp": "∓", "ldots": "…", "dots": "…",
    "cdots": "⋯", "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "lvert": "|", "rvert": "|",
    "langle": "⟨", "rangle": "⟩", "sqrt": "√", "forall": "∀", "exists": "∃", "mid": "|", "top": "⊤",
    "ell": "ℓ", "emptyset": "∅", "setminus": "∖", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "{": "{", "}": "}", "%": "%", "&": "&", "_": "_", "#": "#",
}
SPACES = {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace"}
DROPPED = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
    "displaystyle", "textstyle", "limits", "nolimits", "hat", "bar", "tilde", "widehat", "widetilde", "vec",
    "dot", "ddot", "overline", "underline", "mathrm", "mathbf", "mathit", "mathcal", "mathbb", "mathsf",
    "boldsymbol", "text", "textrm", "textit", "textbf", "operatorname", "rm", "bf", "it", "tfrac", "dfrac",
}
FORMULA = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def tex_to_text(tex: str) -> str:
    """A readable plain-text rendering of a TeX formula, for the search index only."""
    for _ in range(3):  # fractions nest a little
        tex = FRAC.sub(lambda m: f"({m.group(1)})/({m.group(2)})" if len(m.group(2)) > 1 else
                       f"{m.group(1)}/{m.group(2)}", tex)

    def command(match: re.Match) -> str:
        name = match.group(1)
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in SPACES:
            return " "
        if name in DROPPED:
            return ""
        return name if name.isalpha() else ""

    text = COMMAND.sub(command, tex)
    text = text.replace("{", "").replace("}", "").replace("&", " ")
    return re.sub(r"\s+", " ", text).strip()


def _clean(value: str) -> str:
    return FORMULA.sub(lambda m: tex_to_text(m.group(1) if m.group(1) is not None else m.group(2)), value)


def on_post_build(config, **kwargs) -> None:
    index = Path(config["site_dir"]) / "search" / "search_index.json"
    if not index.is_file():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    for doc in data.get("docs", []):
        for field in ("title", "text"):
            if isinstance(doc.get(field), str):
                doc[field] = _clean(doc[field])
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
