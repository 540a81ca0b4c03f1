"""polyanim.show: the HTML player in an iframe for Jupyter, without torch or matplotlib."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import polyanim
from polyanim.config import ConfigError
from polyanim.html import html_page

from conftest import make_history, run_python

ROOT = Path(__file__).resolve().parents[1]


def srcdoc(markup: str) -> str:
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" width="(\d+)" height="(\d+)"[^>]*></iframe>', markup)
    assert match, markup[:200]
    return html.unescape(match.group(1))


def test_repr_html_is_an_iframe_holding_the_player_page():
    h = make_history()
    h.meta["config"]["render"].update(title='Fit "sin" </iframe> & co', fps=12.0, size=[480, 360])
    player = polyanim.show(h)
    markup = player._repr_html_()
    page = html_page(h, title='Fit "sin" </iframe> & co', fps=12.0, size=(480, 360), theme="light", loop=True)
    assert srcdoc(markup) == page == player.page
    assert markup.count("<iframe") == 1 and markup.count("</iframe>") == 1  # the page's own markup is escaped
    assert 'sandbox="allow-scripts"' in markup
    # the frame has room for the 480x360 canvas, the 16 px page margins, the title and the controls
    assert player.width == 480 + 32 and 360 + 32 + 24 + 30 <= player.height <= 360 + 200


def test_from_a_path_with_render_overrides(tmp_path):
    h = make_history()
    path = h.save(tmp_path / "run.history.npz")
    player = polyanim.show(path, fps=20, size=(320, 240), theme="dark", loop=False)
    assert player.page == html_page(h, fps=20.0, size=(320, 240), theme="dark", loop=False)
    assert player.width == 352 and srcdoc(player._repr_html_()) == player.page
    assert polyanim.show(str(path)).page == polyanim.show(h).page  # a str path too


def test_bad_overrides_are_config_errors():
    with pytest.raises(ConfigError, match="polyanim.show: fpss: unknown key; did you mean 'fps'"):
        polyanim.show(make_history(), fpss=20)
    with pytest.raises(ConfigError, match="polyanim.show: fps: must be between"):
        polyanim.show(make_history(), fps=-1)


def test_show_imports_neither_torch_nor_matplotlib(tmp_path):
    make_history().save(tmp_path / "run.history.npz")
    code = ("import sys; sys.modules['torch'] = None\n"
            "import polyanim\n"
            "heavy = lambda: [m for m in sys.modules if sys.modules[m] is not None\n"
            "                 and m.split('.')[0] in ('torch', 'matplotlib', 'tkinter')]\n"
            "assert not heavy(), heavy()\n"
            "markup = polyanim.show('run.history.npz')._repr_html_()\n"
            "assert markup.startswith('<iframe srcdoc=') and not heavy(), heavy()\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_show_accepts_a_runset_object():
    from conftest import make_runset

    markup = polyanim.show(make_runset())._repr_html_()
    assert markup.startswith("<iframe srcdoc=")
