"""The package's shape, checked from its imports: no private names across packages, no import
cycles, and a text layer that depends on no stage.

Imports are read with `ast` from every module under src/rag_oracle, function-local ones included
(they run too, only later); imports under `if TYPE_CHECKING:` never run and are left out of the
cycle check. `from rag_oracle.pkg import name` is an import of the submodule `rag_oracle.pkg.name`
when there is one, else of the package `rag_oracle.pkg`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "rag_oracle"
# What rag_oracle.text (shared text analysis) may import: the data types and the errors.
TEXT_MAY_IMPORT = {"rag_oracle.types", "rag_oracle.errors"}


@dataclass(frozen=True)
class Import:
    importer: str  # module doing the import
    target: str  # module imported, resolved to a module of the package
    names: tuple[str, ...]  # names taken from it (`from target import a, b`); empty for `import target`
    written: str  # the module path as written (before resolving to a submodule)
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        what = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.importer} -> {self.target}{what}  [{module_file(self.importer)}:{self.line}]"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


_FILES: dict[str, Path] = {}


def module_file(module: str) -> str:
    path = _FILES.get(module)
    return str(path.relative_to(SRC.parent)) if path else module


def discover(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `root` (a src folder): dotted name -> file."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    """The absolute module path of a (possibly relative) `from ... import`."""
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _resolve(written: str, modules: set[str]) -> str | None:
    """The longest prefix of `written` that is a module of the package (None: not ours)."""
    parts = written.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def read_imports(modules: dict[str, Path], package: str) -> list[Import]:
    names = set(modules)
    found: list[Import] = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, type_only: bool, importer: str = importer, is_package: bool = is_package) -> None:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for child in node.body:
                    visit(child, True)
                for child in node.orelse:
                    visit(child, type_only)
                return
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == package or alias.name.startswith(package + "."):
                        target = _resolve(alias.name, names)
                        if target:
                            found.append(Import(importer, target, (), alias.name, node.lineno, type_only))
            elif isinstance(node, ast.ImportFrom):
                written = _absolute(importer, is_package, node.module, node.level)
                if written == package or written.startswith(package + "."):
                    plain: list[str] = []
                    for alias in node.names:
                        submodule = f"{written}.{alias.name}"
                        if submodule in names:  # `from pkg import submodule`
                            found.append(Import(importer, submodule, (), submodule, node.lineno, type_only))
                        else:
                            plain.append(alias.name)
                    target = _resolve(written, names)
                    if plain and target:
                        found.append(Import(importer, target, tuple(plain), written, node.lineno, type_only))
            for child in ast.iter_child_nodes(node):
                visit(child, type_only)

        visit(tree, False)
    return [i for i in found if i.target != i.importer]


def top_level(module: str) -> str:
    """The subpackage or module directly under the root package: rag_oracle.embed.cache -> embed."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_crossings(imports: list[Import]) -> list[Import]:
    """Imports of a private name, or of a private module, from another top-level package."""
    bad = []
    for imp in imports:
        if top_level(imp.importer) == top_level(imp.target):
            continue
        private_module = any(_private(part) for part in imp.written.split(".")[1:])
        if private_module or any(_private(n) for n in imp.names):
            bad.append(imp)
    return bad


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit); components in a deterministic order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components)


def import_cycles(imports: list[Import]) -> list[tuple[list[str], list[Import]]]:
    """Each strongly connected component of more than one module, with the imports inside it."""
    runtime = [i for i in imports if not i.type_only]
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in runtime:
        graph[imp.importer].add(imp.target)
        graph.setdefault(imp.target, set())
    cycles = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            members = set(component)
            edges = sorted(
                (i for i in runtime if i.importer in members and i.target in members),
                key=lambda i: (i.importer, i.target, i.line),
            )
            cycles.append((component, edges))
    return cycles


def text_layer_violations(imports: list[Import], package: str = PACKAGE) -> list[Import]:
    text = f"{package}.text"
    allowed = {m.replace(PACKAGE, package, 1) for m in TEXT_MAY_IMPORT}
    return [
        i
        for i in imports
        if (i.importer == text or i.importer.startswith(text + "."))
        and not (i.target == text or i.target.startswith(text + "."))
        and i.target not in allowed
    ]


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    modules = discover(SRC, PACKAGE)
    _FILES.update(modules)
    found = read_imports(modules, PACKAGE)
    assert len(found) > 100, "the import scan found too little to mean anything"
    return found


def test_no_private_names_cross_packages(imports: list[Import]) -> None:
    bad = private_crossings(imports)
    if bad:
        pytest.fail(
            "private names (or modules) imported from another package; make them public or move the code:\n"
            + "\n".join(f"  {i}" for i in bad),
            pytrace=False,
        )


def test_no_import_cycles(imports: list[Import]) -> None:
    cycles = import_cycles(imports)
    report = []
    for component, edges in cycles:
        report.append(f"cycle among {len(component)} modules: {', '.join(component)}")
        report += [f"    {edge}" for edge in edges]
    if cycles:
        pytest.fail("import cycles (TYPE_CHECKING imports excluded):\n" + "\n".join(report), pytrace=False)


def test_text_layer_imports_no_stage(imports: list[Import]) -> None:
    bad = text_layer_violations(imports)
    if bad:
        pytest.fail(
            f"rag_oracle.text may import only {sorted(TEXT_MAY_IMPORT)}; these reach into stages:\n"
            + "\n".join(f"  {i}{' (TYPE_CHECKING)' if i.type_only else ''}" for i in bad),
            pytrace=False,
        )


# --- the checks themselves can fail ----------------------------------------------------------


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from pkg.api import run\n",
        "pkg/api.py": "from pkg.stage import helper\n\ndef run():\n    return helper()\n",
        "pkg/stage/__init__.py": "",
        "pkg/stage/impl.py": "from pkg.util import _hidden\n",
        "pkg/stage/base.py": "def f():\n    from pkg import api  # a function-local import closes a cycle\n",
        "pkg/stage/helper.py": "from . import base\nfrom .impl import thing\n",
        "pkg/util/__init__.py": "_hidden = 1\n",
        "pkg/util/_private.py": "",
        "pkg/other.py": (
            "from typing import TYPE_CHECKING\nimport pkg.util._private\n"
            "if TYPE_CHECKING:\n    from pkg.api import run\n"
        ),
        "pkg/text/__init__.py": "from pkg.stage.helper import x\nfrom pkg.types import T\n",
        "pkg/types.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = read_imports(discover(tmp_path, "pkg"), "pkg")
    edges = {(i.importer, i.target) for i in found}
    # `from pkg.stage import helper` is the submodule; relative imports resolve
    assert ("pkg.api", "pkg.stage.helper") in edges and ("pkg.stage.helper", "pkg.stage.base") in edges
    assert ("pkg.stage.helper", "pkg.stage.impl") in edges
    assert {str(i).split("  [")[0] for i in private_crossings(found)} == {
        "pkg.stage.impl -> pkg.util (_hidden)",
        "pkg.other -> pkg.util._private",
    }
    [(component, _)] = import_cycles(found)
    assert component == ["pkg.api", "pkg.stage.base", "pkg.stage.helper"]  # the TYPE_CHECKING import is not one
    assert [(i.importer, i.target) for i in text_layer_violations(found, "pkg")] == [("pkg.text", "pkg.stage.helper")]
