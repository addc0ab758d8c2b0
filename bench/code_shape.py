"""The longest parameter list and the longest modules of ``trainer/`` and ``digitpad/``.

    python bench/code_shape.py            # the working tree
    python bench/code_shape.py --rev 30c67f6   # a commit (read with git, nothing checked out)

Parameters count every name a function takes (``self`` and ``cls`` excluded, ``*args`` and
``**kwargs`` included); lines are the file's lines.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("trainer", "digitpad")


def sources(rev: str | None) -> dict[str, str]:
    """``{path: text}`` of every module of the packages, in the tree or at commit ``rev``."""
    if rev is None:
        return {
            str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
            for package in PACKAGES
            for p in sorted((ROOT / package).rglob("*.py"))
        }
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "--", *PACKAGES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        name: subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in names
        if name.endswith(".py")
    }


def parameter_counts(path: str, text: str):
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
            names = [n for n in names if n not in ("self", "cls")]
            count = len(names) + (a.vararg is not None) + (a.kwarg is not None)
            yield count, f"{path}:{node.lineno} {node.name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git commit instead of the working tree")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()
    files = sources(args.rev)
    counts = sorted((c for p, t in files.items() for c in parameter_counts(p, t)), reverse=True)
    print(f"{args.rev or 'working tree'}: {len(files)} modules")
    print("longest parameter lists:")
    for count, where in counts[: args.top]:
        print(f"  {count:3d}  {where}")
    print("longest modules:")
    for lines, path in sorted(((t.count("\n"), p) for p, t in files.items()), reverse=True)[
        : args.top
    ]:
        print(f"  {lines:4d}  {path}")


if __name__ == "__main__":
    main()
