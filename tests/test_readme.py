"""The README's Quick start stays true: CI runs exactly its test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text().splitlines()
    command = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    assert "pytest" in command
    assert f"\n{command}\n" in readme


def test_ci_sets_nothing_the_readme_command_reads():
    """CI must run the command as a newcomer does: no variable exported or assigned before it
    (a relative ``../shared/data/mnist`` once broke a test that CI never saw)."""
    ci = (ROOT / ".ci/run").read_text().splitlines()
    before = ci[: ci.index("# --- the README's test command, verbatim ---")]
    code = [line.strip() for line in before if line.strip() and not line.strip().startswith("#")]
    assert not [
        line for line in code if line.startswith("export ") or re.match(r"^[A-Z_][A-Z0-9_]*=", line)
    ], code
    assert "unset DIGITPAD_MNIST_DIR" in code


def test_the_quick_start_names_the_x11_packages_the_app_hints_at():
    from digitpad.platform_hint import X11_PACKAGES

    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert all(package in quick_start for package in X11_PACKAGES)
    assert ". .venv/bin/activate" in quick_start
