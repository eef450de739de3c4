"""Issue 8, example 7: the distributions hold only what runs, and optional parts stay optional.

The sdist and wheel are built with ``python -m build`` (no isolation: the test extra installs
``build`` and a recent setuptools) and their file lists inspected; the metadata must not make
DRF or django-environ hard dependencies; ``rar_provider.drf`` without DRF says which extra to install.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What the sdist may hold besides the package: metadata and the texts the package refers to.
SDIST_TOP_LEVEL = {
    "PKG-INFO",
    "pyproject.toml",
    "setup.cfg",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "MANIFEST.in",
}


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(  # noqa: S603 - our own build
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_wheel_holds_only_the_package(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
    outside = [n for n in names if not n.startswith(("rar_provider/", "django_rar_provider-"))]
    assert outside == []
    assert "rar_provider/templates/rar_provider/consent.html" in names
    assert "rar_provider/migrations/0001_initial.py" in names
    assert "rar_provider/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_sdist_holds_the_package_and_its_texts_only(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    top = {name.split("/", 1)[0] for name in names}
    assert top - {"rar_provider", "django_rar_provider.egg-info"} <= SDIST_TOP_LEVEL, sorted(top)
    for absent in ("tests", "demo_site", "fixtures", "templates", "scripts", "benchmarks", "docs"):
        assert absent not in top
    assert "LICENSE" in top and "CHANGELOG.md" in top
    assert "rar_provider/templates/rar_provider/consent.html" in names


def test_metadata_extras_and_license(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist")
    hard = [r for r in requires if "extra ==" not in r]
    assert not [r for r in hard if r.lower().startswith(("djangorestframework", "django-environ"))], hard
    assert any(r.startswith("djangorestframework") and 'extra == "drf"' in r for r in requires), requires
    assert {"drf", "demo", "test"} <= set(metadata.get_all("Provides-Extra"))
    assert metadata["License-Expression"] == "BSD-3-Clause"
    django = next(r for r in hard if r.lower().startswith("django>") or r.lower().startswith("django<"))
    assert "<6.1" in django and ">=5.2" in django
    classifiers = metadata.get_all("Classifier")
    for version in (
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Programming Language :: Python :: 3.13",
    ):
        assert version in classifiers


def test_license_file_is_bsd_3_clause():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "The django-rar-provider authors" in text


def test_drf_module_without_drf_names_the_extra():
    """``rar_provider.drf`` with DRF not installed: a clear ImportError naming ``[drf]``."""
    code = (
        "import sys; sys.modules['rest_framework'] = None\n"
        "try:\n    import rar_provider.drf\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "django-rar-provider[drf]"' in result.stdout
