"""``--live``: a window that redraws while training runs, or replays a saved History.

Imported only when ``--live`` is given: it is the one module that imports
tkinter. The window is a plain ``tkinter.Tk`` holding a
:class:`~polyanim.scene.Scene` figure on matplotlib's ``FigureCanvasTkAgg``
(no pyplot, no global figure state), drawn by the Scene's own blitting fast
path, so a live frame looks like a frame of the output file.

While training, :class:`TrainingView` is the ``on_snapshot`` callback of
:func:`polyanim.train.train`: it sees every snapshot the History records, keeps
a partial History of them (a curve's, or a field's for two inputs), and
redraws at most once per ``1 / render.fps`` seconds of wall time (counted from
the end of the previous draw); snapshots in between are recorded as usual but
not drawn. It never sleeps: the training loop only ever waits for the drawing
itself. Axis limits cannot come from the
whole History yet, so they start from the first snapshot and only ever widen,
by each panel's own rule (its ``live_limits`` hook, :mod:`polyanim.panels.base`:
the fit panel by the files' :func:`~polyanim.style.y_limits`, the panels over
the steps at ``train.steps`` and in coarse steps, a decade at a time on a log
axis), so the cached background is redrawn rarely.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .errors import one_line
from .history import KIND_META, History
from .scene import Scene


class NoDisplay(RuntimeError):
    """No window can be opened here; the message says why, in a few words."""


def display_problem(environ=None, platform: str | None = None) -> str | None:
    """Why no window can open (no X11 or Wayland display on a Unix desktop), or None if one may.

    Windows and macOS need no environment variable; elsewhere Tk needs ``DISPLAY``
    (Wayland sessions provide one through XWayland).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win32", "cygwin", "darwin")):
        return None
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return "needs a display (none found)"
    return None


class Throttle:
    """Says whether a redraw is due: at most one per ``interval`` seconds of wall time.

    The interval counts from the end of the previous draw (:meth:`done`), so even
    a draw slower than the interval leaves the trainer that much time between two.
    """

    def __init__(self, interval: float, clock=time.perf_counter):
        self.interval = max(0.0, float(interval))
        self.clock = clock
        self._last = None

    def due(self) -> bool:
        return self._last is None or self.clock() - self._last >= self.interval

    def done(self) -> None:
        self._last = self.clock()


class Window:
    """A Tk window showing one Scene's figure at its pixel size.

    Raises :class:`NoDisplay` when there is no display, no tkinter, or Tk cannot
    connect. Closing the window (or pressing Escape or q) only closes the window:
    whoever draws into it checks :attr:`closed` and carries on without it.
    """

    def __init__(self, title: str = "polyanim"):
        problem = display_problem()
        if problem:
            raise NoDisplay(problem)
        try:
            import tkinter
            from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg
        except ImportError as exc:
            raise NoDisplay(f"needs tkinter ({one_line(exc)})") from None
        self._tk = tkinter
        self._canvas_class = FigureCanvasTkAgg
        try:
            self._root = tkinter.Tk(className="polyanim")
        except tkinter.TclError as exc:
            raise NoDisplay(f"could not open a window ({one_line(exc)})") from None
        self._root.title(title)
        self._root.resizable(False, False)
        self._root.protocol("WM_DELETE_WINDOW", self.close)
        for key in ("<Escape>", "<KeyPress-q>"):
            self._root.bind(key, lambda event: self.close())
        self._canvas = None
        self._closed = False
        self.frames = 0  # frames shown so far

    @property
    def closed(self) -> bool:
        return self._closed

    def attach(self, scene: Scene) -> None:
        """Show ``scene``'s figure in the window; the scene then draws into the window's canvas."""
        if self._canvas is not None:
            self._canvas.get_tk_widget().destroy()
        canvas = self._canvas_class(scene.fig, master=self._root)
        widget = canvas.get_tk_widget()
        # The window shows frames at the output's pixel size: no resizing to the widget,
        # and no HiDPI rescaling, either of which would invalidate the scene's cached background.
        widget.unbind("<Configure>")
        widget.unbind("<Map>")
        widget.pack()
        scene.canvas = canvas  # the scene blits into the canvas it owns: make that this one
        self._canvas = canvas

    def show(self, scene: Scene, position: float, *, redraw: bool = False) -> None:
        """Draw snapshot ``position`` (blitting, or a full redraw after limits changed) and display it."""
        if self._closed:
            return
        if redraw:
            scene.full_frame(position)
        else:
            scene.frame(position)
        self._canvas.blit()
        self.frames += 1
        self.pump()

    def pump(self) -> None:
        """Handle pending window events (expose, close) without waiting for any."""
        if not self._closed:
            try:
                self._root.update()
            except self._tk.TclError:  # destroyed behind our back
                self._closed = True

    def wait(self, seconds: float, clock=time.monotonic, sleep=time.sleep) -> None:
        """Keep the window responsive for ``seconds`` (or until it is closed). Never used while training."""
        end = clock() + seconds
        while not self._closed and clock() < end:
            self.pump()
            sleep(min(0.02, max(0.0, end - clock())))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._root.destroy()
            except self._tk.TclError:
                pass


class TrainingView:
    """The ``on_snapshot`` callback of :func:`polyanim.train.train` that draws into a :class:`Window`.

    ``x``, ``y``, ``data_x`` and ``data_y`` are the drawing grid, the target on
    it and the training samples, ``param_names`` the names of the recorded
    parameters (all as the History will have them: the caller knows them, e.g.
    :func:`polyanim.train.drawing_inputs`, since drawing never imports training); ``config`` the
    resolved :class:`~polyanim.config.Config`. Two inputs add ``field``: the field History's other
    shared arrays (``x2``, ``test_x``, ``test_y``) and its kind entries of ``meta`` (``kind``, ``task``,
    ``classes``, ...), so the partial History is a field one and keeps the snapshots' accuracies.
    ``window`` needs ``attach``, ``show``, ``closed`` and ``close`` (tests pass a fake). ``clock`` is the wall
    clock the throttle reads. A window that fails while drawing is closed with
    one line on ``err`` and training goes on; the History is never touched.
    """

    def __init__(self, window, config, *, x, y, data_x=None, data_y=None, param_names=(), field=None,
                 clock=time.perf_counter, err=None):
        self.window = window
        self.config = config
        self.render = config.render
        field = dict(field or {})
        self.meta = {"config": config.to_dict(), "param_names": list(param_names), **field.pop("meta", {})}
        self.x, self.y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.data_x, self.data_y = data_x, data_y
        self.field = field  # x2, test_x, test_y: shared by every snapshot, like x and y
        self.throttle = Throttle(1.0 / self.render.fps, clock)
        self.err = err
        self.scene = None
        self.snapshots = 0  # snapshots received
        self.draws = 0      # snapshots drawn
        self._steps, self._loss, self._params, self._lr, self._acc, self._test_acc = [], [], [], [], [], []
        self._pred = None   # grows by doubling; rows [:snapshots] are the predictions so far

    @classmethod
    def for_history(cls, window, config, history: History, **kwargs) -> "TrainingView":
        """A view drawing what ``history`` (a Recorder's partial History, say) draws: its grid, target,
        samples and parameter names (two inputs: its mesh, test points and kind too)."""
        field = None
        if history.kind == "field":
            field = {key: getattr(history, key) for key in ("x2", "test_x", "test_y")}
            field["meta"] = {key: history.meta[key] for key in KIND_META if key in history.meta}
        return cls(window, config, x=history.x, y=history.y, data_x=history.data_x, data_y=history.data_y,
                   param_names=history.meta.get("param_names") or (), field=field, **kwargs)

    def __call__(self, snapshot) -> None:
        self._append(snapshot)
        if self.window.closed or not self.throttle.due():
            return
        self._safely(self._draw, self._partial())
        self.throttle.done()

    def finish(self, history: History) -> None:
        """Show the last snapshot of the finished run's History (the one the files end on)."""
        if self.scene is None or self.window.closed:
            return
        self.scene.history = history
        self._safely(self._show, len(history) - 1, True)  # redrawn: adaptive thinning may renumber

    def _append(self, snap) -> None:
        n = self.snapshots
        pred = np.asarray(snap.pred, dtype=np.float32)
        if self._pred is None or n == len(self._pred):
            grown = np.empty((max(16, 2 * n), *pred.shape), dtype=np.float32)  # a curve, or a field's mesh
            if n:
                grown[:n] = self._pred
            self._pred = grown
        self._pred[n] = pred
        self._steps.append(snap.step)
        self._loss.append(snap.loss)
        self._lr.append(snap.lr)
        self._acc.append(snap.acc)
        self._test_acc.append(snap.test_acc)
        if snap.params is not None:
            self._params.append(snap.params)
        self.snapshots = n + 1

    def _partial(self) -> History:
        """The History of the snapshots so far (the predictions are a view, not a copy)."""
        n = self.snapshots
        params = np.array(self._params, dtype=np.float64) if len(self._params) == n else None
        # a series given at every snapshot so far, as the Recorder keeps it (a curve has no accuracies)
        kept = {key: (None if None in values else values)
                for key, values in (("lr", self._lr), ("acc", self._acc), ("test_acc", self._test_acc))}
        return History(steps=self._steps, loss=self._loss, x=self.x, y=self.y, pred=self._pred[:n],
                       params=params, meta=self.meta, data_x=self.data_x, data_y=self.data_y, **kept, **self.field)

    def _draw(self, history: History) -> None:
        if self.scene is None:
            self.scene = Scene(history, self.render)
            self.window.attach(self.scene)
        else:
            self.scene.history = history
        self._show(len(history) - 1)

    def _show(self, i: int, force: bool = False) -> None:
        changed = self._fit_limits(self.scene.history)
        # the first frame draws the background anyway; later, new limits invalidate the cached one
        self.window.show(self.scene, float(i), redraw=self.draws > 0 and (changed or force))
        self.draws += 1

    def _fit_limits(self, history: History) -> bool:
        """Widen the axes to the snapshots so far, by each panel's own rule (its ``live_limits`` hook;
        a panel without one keeps the limits it set up); whether any limit changed."""
        scene = self.scene
        scene.update(float(len(history) - 1))  # the moving artists now hold the data to fit
        changed = False
        for panel in scene.panels.values():
            grow = getattr(panel, "live_limits", None)
            if grow is not None and grow(history, self.config.train.steps):
                changed = True
        return changed

    def _safely(self, draw, *args) -> None:
        try:
            draw(*args)
        except Exception as exc:  # a broken window must never stop training
            print(f"polyanim: --live: the window failed ({one_line(exc)}); training goes on without it",
                  file=self.err or sys.stderr)
            try:
                self.window.close()
            except Exception:
                pass


def replay(window: Window, history: History, render, *, clock=time.monotonic) -> int:
    """Play ``history`` in ``window`` on the files' timeline (``render.fps``, holds, in-betweens).

    Frames that fall behind the wall clock are skipped, never the last one.
    Returns the number of frames shown; stops early when the window is closed.
    """
    from .renderer import plan

    frames, rate, _ = plan(len(history), render, lambda fps: (fps, None))
    scene = Scene(history, render)
    window.attach(scene)
    window.show(scene, frames[0])  # the first frame draws the background: the clock starts after it
    start, shown = clock(), frames[0]
    for k, position in enumerate(frames[1:], start=1):
        if window.closed:
            break
        due = start + k / rate
        if clock() - due > 1.0 / rate and k < len(frames) - 1:
            continue  # behind the wall clock: drop this frame
        window.wait(due - clock())
        if position != shown:
            window.show(scene, position)
            shown = position
    window.wait(start + len(frames) / rate - clock())
    return window.frames
