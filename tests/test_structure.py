"""The shape of the code: modules import in any order, core never reaches into a blueprint, no import
hides inside a function, views and functions stay short. Read from the source (ast) and from fresh
interpreters, so that a cycle shows here and not as an ImportError in production."""
from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

from walkapp import policy

PACKAGE = Path(__file__).resolve().parent.parent / "walkapp"
# Blueprint packages: walkapp/<name>/__init__.py. Everything else directly in walkapp/ is core.
# Subpackages that are blueprints (they define one); others, such as privacy/, are core domain packages.
BLUEPRINTS = frozenset(p.parent.name for p in PACKAGE.glob("*/__init__.py") if "Blueprint(" in p.read_text())
# The app factory is the one core module that wires blueprints in: that is its job.
COMPOSITION_ROOT = PACKAGE / "__init__.py"
# Function-level imports of walkapp modules that are truly needed (with why); ideally none.
FUNCTION_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {}
VIEW_MAX_LINES = 40
FUNCTION_MAX_LINES = 60


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.relative_to(PACKAGE).parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_walkapp_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute walkapp modules (or names in them) an import statement refers to."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "walkapp"]
    if node.level == 0:
        base = node.module or ""
        return [f"{base}.{a.name}" for a in node.names] if base.split(".")[0] == "walkapp" else []
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = ".".join(package[: len(package) - (node.level - 1)] + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" for a in node.names]


def functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_every_module_imports_in_any_order():
    modules = [module_name(p) for p in source_files()]
    shuffled = modules[:]
    random.Random(12).shuffle(shuffled)
    for order in (sorted(modules), sorted(modules, reverse=True), shuffled):
        script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
        result = subprocess.run([sys.executable, "-c", script, *order], capture_output=True, text=True,
                                cwd=PACKAGE.parent, timeout=300)
        assert result.returncode == 0, f"import order starting {order[:3]}:\n{result.stderr[-3000:]}"


def test_core_modules_never_import_a_blueprint():
    offenders = []
    for path in PACKAGE.glob("*.py"):
        if path == COMPOSITION_ROOT:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in imported_walkapp_modules(node, module_name(path), is_package=False):
                    if (name.split(".") + [""])[1] in BLUEPRINTS:
                        offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []


def test_no_function_hides_an_import_of_a_walkapp_module():
    offenders = []
    for path in source_files():
        tree = ast.parse(path.read_text())
        for function in functions(tree):
            for node in ast.walk(function):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                names = imported_walkapp_modules(node, module_name(path), path.name == "__init__.py")
                if names and (module_name(path), function.name) not in FUNCTION_IMPORTS_ALLOWED:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {function.name}() imports {names}")
    assert offenders == []


def is_view(function: ast.FunctionDef) -> bool:
    """Decorated with a blueprint's route: @bp.get/post/put/patch/delete/route(...)."""
    for decorator in function.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name) and call.value.id == "bp"
                and call.attr in ("get", "post", "put", "patch", "delete", "route")):
            return True
    return False


def lines(function: ast.FunctionDef) -> int:
    """From the def line to the last line of the body (decorators not counted)."""
    return function.end_lineno - function.lineno + 1


def long_functions() -> list[str]:
    found = []
    for path in source_files():
        for function in functions(ast.parse(path.read_text())):
            limit = VIEW_MAX_LINES if is_view(function) else FUNCTION_MAX_LINES
            if lines(function) > limit:
                found.append(f"{path.relative_to(PACKAGE)}:{function.lineno} {function.name}() "
                             f"{lines(function)} lines > {limit}")
    return found


def test_views_and_functions_stay_short():
    assert long_functions() == []


def test_the_checks_see_what_they_look_for():
    """The ast helpers find a view, a relative import of a blueprint, and a long function."""
    tree = ast.parse("@bp.get('/x')\n@allow(ANYONE)\ndef view():\n" + "    x = 1\n" * 45)
    [view] = functions(tree)
    assert is_view(view) and lines(view) == 46
    [node] = ast.parse("from .api.tokens import digest").body
    assert imported_walkapp_modules(node, "walkapp.access", is_package=False) == ["walkapp.api.tokens.digest"]
    [node] = ast.parse("from .. import policy").body
    assert imported_walkapp_modules(node, "walkapp.triage.routes", is_package=False) == ["walkapp.policy"]
    assert {"api", "auth", "observations", "triage", "open311"} <= BLUEPRINTS


@pytest.mark.parametrize("name", ["is_staff", "is_admin", "is_responder", "can_comment", "can_manage_walk"])
def test_templates_ask_policy_under_its_own_names(app, name):
    assert app.jinja_env.globals[name] is getattr(policy, name)


def test_templates_never_compare_roles():
    templates = PACKAGE.parent / "templates"
    found = [f"{p.relative_to(templates)}:{n}" for p in sorted(templates.rglob("*.html"))
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if "role.value" in line or "role ==" in line or ".role in" in line]
    assert found == []
