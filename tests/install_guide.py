"""docs/install.md as data: its code blocks, and the host project built from them.

Every fenced block in the guide is preceded by a comment saying how it is used::

    <!-- install: append hostsite/settings.py -->   appended to that file of the host project
    <!-- install: sh -->                            a command run in the host project's folder
    <!-- install: shell -->                         Python run with ``manage.py shell -c``
    <!-- install: flow par|browser|token|introspect -->   a step of the first flow (tests replay it)
    <!-- install: pip -->                           a ``pip install`` line (extras checked)
    <!-- install: swapped ... -->                   the same kinds, for the swapped-model host
    <!-- install: production append FILE -->       appended for the production check

``tests/hostproject/`` is ``django-admin startproject hostsite`` (Django 5.2) plus, after
:data:`MARKER`, the ``append`` blocks; ``python -m tests.install_guide`` rewrites it from the guide.
The tests build each host the same way with the Django they run on (:func:`build_project`), so
under Django 6.0 the host is Django 6.0's ``startproject`` output.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "install.md"
HOST_PROJECT = Path(__file__).resolve().parent / "hostproject"
MARKER = "\n\n# ---- Added as docs/install.md says (tests/test_host_project.py keeps them equal) ----\n\n"
HOST_FILES = ("hostsite/settings.py", "hostsite/urls.py")

_BLOCK = re.compile(r"<!-- install: (?P<label>[^>]*?) -->\n```(?P<lang>[a-z]*)\n(?P<code>.*?)```\n", re.S)


@dataclass(frozen=True)
class Block:
    label: str
    lang: str
    code: str

    @property
    def words(self) -> list[str]:
        return self.label.split()


def blocks() -> list[Block]:
    """Every labelled code block of the guide, in order."""
    return [Block(m["label"], m["lang"], m["code"]) for m in _BLOCK.finditer(GUIDE.read_text())]


def fence_count() -> int:
    """How many fenced blocks the guide has (labelled or not)."""
    return GUIDE.read_text().count("\n```") // 2


def appended(path: str, variant: str | None = None) -> str:
    """The text the guide appends to ``path`` (``variant``: "swapped" / "production" blocks only)."""
    codes = []
    for block in blocks():
        words = block.words
        if variant is not None:
            if words[0] != variant:
                continue
            words = words[1:]
        if words == ["append", path]:
            codes.append(block.code)
    return "\n\n".join(code.rstrip("\n") for code in codes) + "\n"


def startproject_text(path: str) -> str:
    """``path`` as this Django's ``startproject hostsite`` writes it (SECRET_KEY normalised)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(  # noqa: S603 - Django's own command
            [sys.executable, "-m", "django", "startproject", "hostsite", folder],
            check=True,
            capture_output=True,
        )
        return normalise((Path(folder) / path).read_text())


def normalise(text: str) -> str:
    """Hide what differs between two ``startproject`` runs: the random SECRET_KEY, Django's version."""
    text = re.sub(r"^SECRET_KEY = .*$", "SECRET_KEY = '<random>'", text, flags=re.M)
    return re.sub(r"(/en/|using Django )\d+\.\d+(\.\d+)?", r"\1<version>", text)


def split_host_file(path: str) -> tuple[str, str]:
    """The committed host file as (startproject part, the part added from the guide)."""
    text = (HOST_PROJECT / path).read_text()
    assert MARKER in text, f"{path} lost its marker line"
    generated, added = text.split(MARKER)
    return generated + "\n", added


def build_project(folder: Path) -> Path:
    """``startproject hostsite`` with this Django into ``folder`` (created), plus the guide's lines."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "startproject", "hostsite", str(folder)],
        check=True,
        capture_output=True,
    )
    for path in HOST_FILES:
        text = (folder / path).read_text().rstrip("\n")
        (folder / path).write_text(text + MARKER + appended(path))
    return folder


def django_version_of(text: str) -> str | None:
    """The Django version a ``startproject`` settings file says generated it ("5.2")."""
    found = re.search(r"using Django (\d+\.\d+)", text)
    return found[1] if found else None


def write_host_project() -> None:
    """Rewrite tests/hostproject from a fresh ``startproject`` and the guide (run by hand)."""
    with tempfile.TemporaryDirectory() as folder:
        build_project(Path(folder))
        for source in Path(folder).rglob("*.py"):
            target = HOST_PROJECT / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())


if __name__ == "__main__":
    write_host_project()
