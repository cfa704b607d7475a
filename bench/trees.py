"""Another revision of toolpool, checked out beside this one, to measure against in one run.

``baseline_tree`` checks a revision out into a temporary git worktree; ``server_command``
runs that tree's server (``worker.cli serve``) so that the server AND the sandbox template
it starts import that tree, not this one (the template is started with ``python -I``,
which would otherwise import the installed tree): a launcher script stands in for the
interpreter the pool execs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def short_revision(revision: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", revision], check=True, capture_output=True, text=True
    ).stdout.strip()


def baseline_tree(revision: str, where: Path) -> Path:
    tree = where / "baseline"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision], check=True, capture_output=True
    )
    return tree


def remove_tree(tree: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


def template_launcher(tree: Path, where: Path) -> Path:
    """An executable the pool can use as its ``python``: runs ``tree``'s sandbox.template."""
    launcher = where / "python-for-template"
    launcher.write_text(
        f"#!{sys.executable} -I\nimport runpy, sys\nsys.path.insert(0, {str(tree)!r})\n"
        "sys.argv = ['sandbox.template', sys.argv[-1]]\n"
        "runpy.run_module('sandbox.template', run_name='__main__', alter_sys=True)\n"
    )
    os.chmod(launcher, 0o755)
    return launcher


def server_command(tree: Path, where: Path, config: Path) -> list[str]:
    """``toolpool serve --config CONFIG`` of ``tree``, its pool's template included."""
    launcher = template_launcher(tree, where)
    code = (
        f"import sys; sys.path.insert(0, {str(tree)!r}); sys.executable = {str(launcher)!r}; "
        "from worker.cli import main; sys.exit(main(['serve', '--config', sys.argv[1]]))"
    )
    return [sys.executable, "-c", code, str(config)]
