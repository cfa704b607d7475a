"""Compiling tool code under the policy: the AST checks and rewrites (``transformer.py``,
and the passes before and after it in ``passes.py``), the bundle compile
(``compiler.py``), and the confined compile worker's loop (``worker.py``), which runs the
compiler in a confined child of the template so that no tenant upload is parsed in the
server.
"""
