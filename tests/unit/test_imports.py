"""No import cycles in `service`: none between its packages, none between its modules. And no test
imports from a conftest.py: shared helpers live in tests/helpers.py (tests/faults/helpers.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.import_graph import cycles, module_graph, package_graph

SERVICE = Path(__file__).resolve().parents[2] / "service"
TESTS = SERVICE.parent / "tests"


def test_no_package_imports_another_that_imports_it_back() -> None:
    assert cycles(package_graph(module_graph(SERVICE))) == []


def test_no_module_imports_another_that_imports_it_back() -> None:
    assert cycles(module_graph(SERVICE)) == []


def test_no_test_imports_from_a_conftest() -> None:
    offenders: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name.split(".")[-1] == "conftest" for name in names):
                offenders.append(f"{path.relative_to(TESTS.parent)}:{node.lineno}")
    assert offenders == [], "import these from tests/helpers.py instead"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_imports_inside_functions_and_under_type_checking_count(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "",
        "pkg/a/one.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b.two import Two\n",
        "pkg/b/__init__.py": "",
        "pkg/b/two.py": "def f():\n    from ..a import one\n",
    })
    modules = module_graph(root)
    assert modules["pkg.a.one"] == {"pkg.b.two"} and modules["pkg.b.two"] == {"pkg.a.one"}
    assert cycles(modules) == [["pkg.a.one", "pkg.b.two"]]
    assert cycles(package_graph(modules)) == [["pkg.a", "pkg.b"]]


def test_a_package_cycle_is_found_even_when_its_modules_form_none(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a/__init__.py": "",
        "pkg/a/one.py": "import pkg.b.two\n",
        "pkg/a/three.py": "",
        "pkg/b/__init__.py": "",
        "pkg/b/two.py": "",
        "pkg/b/four.py": "from pkg.a import three\n",
        "pkg/top.py": "from pkg.a.one import x\n",
    })
    modules = module_graph(root)
    assert cycles(modules) == []
    assert cycles(package_graph(modules)) == [["pkg.a", "pkg.b"]]
    assert package_graph(modules)["pkg.top"] == {"pkg.a"}


def test_a_package_may_import_its_own_modules(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/cli/__init__.py": "from pkg.cli import common, data\n",
        "pkg/cli/common.py": "",
        "pkg/cli/data.py": "from pkg.cli.common import x\nfrom . import common\n",
    })
    modules = module_graph(root)
    assert modules["pkg.cli"] == {"pkg.cli.common", "pkg.cli.data"}
    assert modules["pkg.cli.data"] == {"pkg.cli.common"}
    assert cycles(modules) == [] and cycles(package_graph(modules)) == []
