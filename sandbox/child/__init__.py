"""Code that runs inside the confined child, next to tenant tool code.

Nothing in this package is trusted by the supervisor: everything the child sends back
is parsed and validated again in ``sandbox/supervisor/normalize.py``. The modules here give the
tool its view of the call (``conv``, ``log``, ``polyai.voice``) and turn what the tool
leaves behind into plain JSON data.
"""
