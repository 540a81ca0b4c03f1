"""Drawing never imports training: every drawing module loads with torch made unimportable."""

from conftest import run_python

DRAWING = ["scene", "panels", "panels.base", "panels.fit", "panels.loss", "panels.params", "panels.lr", "timeline",
           "style", "live", "html", "writers", "renderer", "api"]
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
                      "print('ok')", tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
