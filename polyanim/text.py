"""Label text as it is drawn: matplotlib's mathtext as plain Unicode, and no bidirectional controls.

No matplotlib here: the HTML player and the batch gallery draw labels by the same rules as the frames.
"""

from __future__ import annotations

import re

_MATH_SYMBOLS = {r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\epsilon": "ε",
                 r"\eta": "η", r"\theta": "θ", r"\lambda": "λ", r"\mu": "μ", r"\pi": "π", r"\sigma": "σ",
                 r"\tau": "τ", r"\phi": "φ", r"\omega": "ω", r"\Delta": "Δ", r"\Sigma": "Σ",
                 r"\times": "×", r"\cdot": "·", r"\pm": "±", r"\leq": "≤", r"\geq": "≥", r"\le": "≤",
                 r"\ge": "≥", r"\neq": "≠", r"\approx": "≈", r"\infty": "∞", r"\to": "→", r"\$": "$",
                 r"\%": "%", r"\,": " ", r"\;": " ", r"\ ": " "}
_SUP_CHARS, _SUB_CHARS = "0123456789+-=()n", "0123456789+-=()"
_SUP = str.maketrans(_SUP_CHARS, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SUB = str.maketrans(_SUB_CHARS, "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")


# Bidirectional controls (embeddings, overrides, isolates, marks): a raw U+202E in a label reverses
# the text drawn after it, in matplotlib's frames as in a browser, so a label could show words it does
# not contain. They are dropped wherever a label is drawn; the letters of any script stay.
_BIDI = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def no_bidi(text: str) -> str:
    """``text`` without bidirectional control characters (see ``_BIDI``): drawn in the order it is written."""
    return text.translate(_BIDI)


def plain_text(text: str) -> str:
    r"""``text`` as matplotlib draws it, in plain Unicode: for the HTML page, which draws no mathtext.

    The rule is matplotlib's (checked when the config is read): with an even,
    non-zero number of unescaped ``$``, each ``$…$`` is mathtext; ``\$`` is a
    literal dollar sign. Mathtext becomes readable text: the delimiters go,
    common symbols (``\alpha``, ``\times``…) become their characters, ``^2``
    and ``_0`` become super- and subscripts where Unicode has them, ``\frac{a}{b}``
    becomes ``a/b`` and braces are dropped.
    """
    text = no_bidi(text)
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) < 3 or len(parts) % 2 == 0:  # no math (an odd count is refused by the config)
        return text.replace("\\$", "$")
    return "".join(_plain_math(p) if k % 2 else p.replace("\\$", "$") for k, p in enumerate(parts))


def _plain_math(math: str) -> str:
    """One ``$…$`` segment (without the dollars) as plain text; see :func:`plain_text`."""
    s = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"\1/\2", math)
    s = re.sub(r"\\(?:mathrm|mathit|mathbf|text|operatorname)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\[A-Za-z]+|\\.", lambda m: _MATH_SYMBOLS.get(m.group(0), m.group(0)[1:]), s)

    def script(m):  # x^2 -> x², x_{10} -> x₁₀; what Unicode has no script for stays x^ab
        body = m.group(2) if m.group(2) is not None else m.group(3)
        chars, table = (_SUP_CHARS, _SUP) if m.group(1) == "^" else (_SUB_CHARS, _SUB)
        return body.translate(table) if body and set(body) <= set(chars) else m.group(1) + body

    s = re.sub(r"([\^_])(?:\{([^{}]*)\}|(.))", script, s)
    return s.replace("{", "").replace("}", "")
