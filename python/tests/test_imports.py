"""The package's modules import one another without a circle (every relative import counted, at the
top of a module or inside a function), so that any module can be imported first."""

import ast
from pathlib import Path

import reachlab


def _edges():
    root = Path(reachlab.__file__).parent
    names = {p.stem for p in root.glob("*.py")} - {"__init__"}
    edges = {}
    for path in root.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        edges[path.stem] = deps & names
    return edges


def _circle(edges):
    """A circle of imports as a list of modules, or None."""
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(edges.get(m, ())):
            if state.get(d) == "open":
                return stack + [m, d]
            if d not in state:
                found = visit(d, stack + [m])
                if found:
                    return found
        state[m] = "done"
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m, [])
            if found:
                return found
    return None


def test_no_import_circle():
    edges = _edges()
    assert {"runs", "policy", "analysis"} <= set(edges), sorted(edges)
    assert _circle(edges) is None, " -> ".join(_circle(edges))


def test_the_check_finds_a_circle():
    assert _circle({"runs": {"policy"}, "policy": {"_files", "runs"}, "_files": set()}) == ["policy", "runs", "policy"]


def test_the_kernel_thread_count_is_written_once_through_os_environ():
    # The extension does not write the environment itself (threads may run at import); the package does,
    # through os.environ, unless the user set it.
    import os

    assert int(os.environ["RAYON_NUM_THREADS"]) >= 1
    assert reachlab._reachlab.default_kernel_threads() >= 1
