"""The seam with DOT and oauthlib (issue 10 point 6): every private DOT method rar_provider overrides
or calls is listed in :mod:`rar_provider.oauth.seams`, with the signature it relies on; the
installed DOT must still have exactly that signature, and no other private method may be used."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from rar_provider.oauth.seams import SEAMS

PACKAGE = Path(__file__).resolve().parent.parent / "rar_provider"


@pytest.mark.parametrize("seam", SEAMS, ids=lambda seam: seam.name)
def test_dot_still_has_the_signature_we_rely_on(seam):
    owner = import_string(seam.owner)
    assert seam.name in vars(owner), f"{seam.owner} no longer defines {seam.name}"
    assert str(inspect.signature(getattr(owner, seam.name))) == seam.signature


@pytest.mark.parametrize("seam", SEAMS, ids=lambda seam: seam.name)
def test_our_side_of_each_seam_exists(seam):
    # A function (module.function) or a method of a class (module.Class.method).
    try:
        import_string(seam.ours)
    except ImportError:
        owner, _, name = seam.ours.rpartition(".")
        assert name in vars(import_string(owner)), seam.ours


def _private_uses(tree: ast.AST) -> set[str]:
    """Names of ``_private`` attributes called as ``super()._x(...)`` or ``<something>._x(...)``, and
    ``def _x`` in classes (overrides)."""
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name.startswith("_") and not name.startswith("__"):
                used.add(name)
    return used


def _defined_methods(tree: ast.AST) -> set[str]:
    return {
        item.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef) and item.name.startswith("_") and not item.name.startswith("__")
    }


def test_no_private_dot_or_oauthlib_method_is_used_outside_the_list():
    import oauth2_provider.oauth2_backends
    import oauth2_provider.oauth2_validators
    import oauth2_provider.views.base
    from oauthlib.oauth2.rfc6749.request_validator import RequestValidator

    theirs = set()
    for owner in (
        oauth2_provider.oauth2_validators.OAuth2Validator,
        oauth2_provider.oauth2_backends.OAuthLibCore,
        oauth2_provider.views.base.TokenView,
        oauth2_provider.views.base.AuthorizationView,
        RequestValidator,
    ):
        theirs |= {name for name in dir(owner) if name.startswith("_") and not name.startswith("__")}
    listed = {seam.name for seam in SEAMS}
    unlisted = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        found = (_private_uses(tree) | _defined_methods(tree)) & theirs
        if found - listed:
            unlisted[str(path.relative_to(PACKAGE))] = sorted(found - listed)
    assert unlisted == {}, (
        f"private DOT/oauthlib methods used but not in rar_provider.oauth.seams: {unlisted}"
    )


def test_the_check_would_catch_a_new_private_use():
    """The scan is not vacuous: a class overriding a DOT private method is found."""
    tree = ast.parse("class V:\n    def _load_application(self, client_id, request):\n        pass\n")
    assert "_load_application" in _defined_methods(tree)
    tree = ast.parse("x = core._extract_params(request)")
    assert "_extract_params" in _private_uses(tree)
