"""Imports point one way: crm's platform <- customers <- interactions <- marketing, analytics; crm/web on top.

The API (crm/web/api) is transport: of the apps it imports only services, selectors and models.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["customers", "interactions", "marketing", "analytics"]
# Each layer, and the top-level packages it must not import.
FORBIDDEN = {
    "crm": {*APPS, "crm.web"},
    "customers": {"interactions", "marketing", "analytics", "crm.web"},
    "interactions": {"marketing", "analytics", "crm.web"},
    "marketing": {"analytics", "crm.web"},
    "analytics": {"marketing", "crm.web"},
}
API_MAY_IMPORT = ("services", "selectors", "models")


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        if package == "crm" and parts[1] in ("web", "settings"):
            continue
        yield path


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{a.name}" for a in node.names]  # `from app import services` too
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_against_the_direction(layer):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(layer)
        for name in imported(path)
        if any(within(name, f) for f in FORBIDDEN[layer])
    ]
    assert wrong == []


def test_the_api_imports_only_services_selectors_and_models_of_the_apps():
    wrong = []
    for path in sorted((ROOT / "crm" / "web" / "api").rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for name in imported(path):
            app, _, rest = name.partition(".")
            if app in APPS and not rest.startswith(API_MAY_IMPORT):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []
