"""Drawing never imports training: every drawing module loads with torch made unimportable."""

import ast
from pathlib import Path

from conftest import run_python
from polyanim.panels.registry import PANELS

# every registered panel's module too (read from the registry, so a new panel is checked without a change here)
PANEL_MODULES = sorted({spec.path.partition(":")[0].removeprefix("polyanim.") for spec in PANELS.values()})
DRAWING = ["scene", "panels", "panels.base", *PANEL_MODULES, "timeline", "style", "live", "html", "writer", "writers",
           "renderer", "api"]
TRAINING = ["polyanim.train", "polyanim.models", "polyanim.multirun", "polyanim.optim"]


def test_drawing_modules_import_no_torch_and_no_training(tmp_path):
    code = ("import importlib, sys; sys.modules['torch'] = None\n"
            f"for name in {DRAWING!r}:\n"
            "    importlib.import_module('polyanim.' + name)\n"
            "loaded = [m for m, module in sys.modules.items() if module is not None]\n"
            f"print(sorted(m for m in loaded if m.split('.')[0] == 'torch' or m in {TRAINING!r}))\n"
            "print('polyanim.panels.lr' in loaded, 'matplotlib' in loaded)")
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True True"]  # and the modules did load


def test_the_rules_import_no_matplotlib(tmp_path):
    # the HTML player's payload uses the same rules as the frames, without a plotting library
    done = run_python("import sys; sys.modules['matplotlib'] = None\n"
                      "import polyanim.timeline, polyanim.style, polyanim.panels, polyanim.config\n"
                      "import polyanim.html, polyanim.player_data\n"
                      "from polyanim.history import History\n"
                      "import numpy as np\n"
                      "x = np.linspace(-1, 1, 20); p = np.stack([x * 0.5, x]); PANELS = polyanim.panels.PANELS\n"
                      "names = [n for n in PANELS if 'curve' in PANELS[n].kinds]\n"
                      "h = History([0, 10], [1.0, 0.5], x, x, p, np.ones((2, 2)), {'config': {}}, lr=[0.1, 0.1])\n"
                      "page = polyanim.html.html_page(h, panels=names)\n"  # every panel's player hook, too
                      "pts = np.stack([x, -x], 1); q = np.stack([np.outer(x, x) * 0 + 0.2, np.outer(x, x) * 0 + 0.7])\n"
                      "f = History([0, 10], [1.0, 0.5], x, np.full((20, 20), np.nan), q, None,\n"
                      "            {'kind': 'field', 'task': 'classify', 'classes': 2}, data_x=pts,\n"
                      "            data_y=(x > 0) * 1.0, x2=x, acc=[0.5, 0.9])\n"
                      "for names in (['boundary', 'accuracy', 'loss', 'lr'], ['surface']):\n"
                      "    page += polyanim.html.html_page(f, panels=names)\n"
                      "print('ok' if len(page) > 1000 else 'short')", tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --- the package's own import graph --------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "polyanim"


def _modules() -> dict:
    """Dotted module name -> source path, for every module of the package (``__init__`` as the package)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree) -> set:
    """Import nodes under ``if TYPE_CHECKING:``: never executed, so no edge."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def import_graph() -> dict:
    """Module -> the package modules it imports anywhere (module level or inside functions)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # polyanim.x.y where y is a name: its module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict) -> list | None:
    """One import cycle as ``[a, b, ..., a]``, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "polyanim.train" in graph["polyanim.cli"]  # imported inside a function: torch only when training
    assert "polyanim.config" in graph["polyanim.api"]  # a relative import at module level


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_package_re_exports_private_names():
    leaks = []
    for name, path in _modules().items():
        if path.name != "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                leaks += [f"{name}: {a.asname or a.name}" for a in node.names if (a.asname or a.name).startswith("_")
                          and not (a.asname or a.name).startswith("__")]
    assert not leaks, "private names re-exported: " + ", ".join(leaks)
