"""Issue 16 item 25: the batch gallery has the player's Content-Security-Policy, and bidirectional
control characters in labels cannot reorder what the frames, the player or the gallery show."""

import re

from conftest import make_runset
from test_batch import gallery
from test_html import browser, open_page  # noqa: F401  (the module-scoped Chromium fixture)

from polyanim import style
from polyanim.gallery import write_index
from polyanim.batching.plan import Result
from polyanim.html import POLICY, html_page

RLO = "\u202e"


def test_the_gallery_has_the_players_policy(tmp_path):
    path, _ = gallery(tmp_path)
    text = path.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert policy.startswith(POLICY) and "default-src 'none'" in policy


def test_the_gallery_under_its_policy_shows_its_pictures_and_runs_its_script(browser, tmp_path):  # noqa: F811
    path, _ = gallery(tmp_path)
    tab, errors = open_page(browser, path)
    tab.wait_for_load_state("load")
    widths = tab.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert widths and all(w > 0 for w in widths)  # the policy lets the batch's own files through
    tab.select_option("#sort", "name")  # the inline sorting script still runs
    assert not errors, errors


def test_bidi_controls_are_dropped_from_every_label():
    assert style.no_bidi(f"abc{RLO}def\u2066x\u2069\u200f") == "abcdefx"
    assert style.plain_text(f"a{RLO}b $x^2$") == "ab x²"
    runs = make_runset(labels=(f"SGD{RLO}evil", "Adam", "x"))
    html = html_page(runs, size=(320, 240))
    assert RLO not in html and "\\u202e" not in html.lower() and "SGDevil" in html
    from polyanim.timeline import Timeline

    assert Timeline(runs).labels[0] == "SGDevil"


def test_the_gallery_isolates_and_cleans_labels(tmp_path):
    out = write_index(tmp_path / "index.html", [Result("u", f"lr{RLO}=1", "ok", 1.0, 1.0, outputs=[])])
    text = out.read_text(encoding="utf-8")
    assert RLO not in text and "<bdi>lr=1</bdi>" in text
