"""The one compile the command line and ``toolpool.testing`` perform: ``compile_files``.

``toolpool run``, ``toolpool check`` and ``toolpool.testing.run_tool`` compile through
this function and nothing else, so that they compile exactly as the service does and so
that the compile can move behind the confined compile worker in one place. Today it
calls ``sandbox.compiler.compile_bundle`` in this process (compiling runs no tool code);
when the worker lands, only this body changes.

Trusts the policy it is given (the service's default unless a caller names another);
trusts nothing in ``files``: every problem comes back as ``CompileErrors`` naming the
file and line.
"""

from __future__ import annotations

from typing import Mapping

from sandbox.compiler import Bundle, CompileErrors, CompileProblem, compile_bundle
from sandbox.policy import DEFAULT_POLICY, Policy

__all__ = ["Bundle", "CompileErrors", "CompileProblem", "compile_files"]


def compile_files(files: Mapping[str, str], policy: Policy = DEFAULT_POLICY) -> Bundle:
    """Compile ``files`` (bundle name -> source) as one bundle, as ``Deploy`` does.

    Returns the ``Bundle``; raises ``CompileErrors`` listing every problem of every file
    (``.errors``: file, line, message), and ``sandbox.errors.InvalidInput`` only for a
    policy that allows something on the floor (the caller's mistake, never the tool's).
    """
    return compile_bundle(dict(files), policy=policy)
