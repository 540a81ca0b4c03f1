"""Drawing never imports training: every drawing module loads with torch made unimportable."""

from conftest import run_python
from polyanim.panels.registry import PANELS

# every registered panel's module too (read from the registry, so a new panel is checked without a change here)
PANEL_MODULES = sorted({spec.path.partition(":")[0].removeprefix("polyanim.") for spec in PANELS.values()})
DRAWING = ["scene", "panels", "panels.base", *PANEL_MODULES, "timeline", "style", "live", "html", "writers",
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
