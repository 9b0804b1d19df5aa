"""Open a page in headless Chromium: a screenshot, and the DOM as the browser built it."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(browser: str, profile: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root, where Chromium's own sandbox refuses to start.
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def screenshot(browser: str, page: Path, png: Path, profile: Path, size=(1280, 2400)) -> None:
    proc = _run(browser, profile, "--hide-scrollbars", f"--window-size={size[0]},{size[1]}",
                f"--screenshot={png}", page.resolve().as_uri())
    assert png.is_file(), f"no screenshot written:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


def dump_dom(browser: str, page: Path, profile: Path) -> str:
    proc = _run(browser, profile, "--dump-dom", page.resolve().as_uri())
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


class Dom(HTMLParser):
    """What a reader sees: each table's rows as cell texts, each figure's caption and svg."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, dict] = {}
        self.headings: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []       # in-page targets of <a href="#...">
        self._table = self._row = self._cell = None
        self._figure = None
        self._caption = None
        self._heading = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.links.append(a["href"][1:])
        if tag == "table":
            key = a.get("id") or ("reasons:" + a["data-question"] if "data-question" in a else None)
            self._table = self.tables.setdefault(key, []) if key else None
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "figure":
            self._figure = self.figures.setdefault(a.get("id", ""), {"caption": "", "svg": 0, "shapes": 0, "text": []})
        elif self._figure is not None and tag == "svg":
            self._figure["svg"] += 1
        elif self._figure is not None and tag in ("path", "rect", "use"):
            self._figure["shapes"] += 1
        elif tag == "figcaption":
            self._caption = []
        elif tag in ("h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "figcaption" and self._caption is not None:
            self._figure["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "figure":
            self._figure = None
        elif tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._heading is not None:
            self._heading.append(data)
        if self._figure is not None and self._caption is None:
            self._figure["text"].append(data)

    def rows(self, table: str) -> list[list[str]]:
        """Body rows of a table (the header row dropped)."""
        return self.tables.get(table, [])[1:]
