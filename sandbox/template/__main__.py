"""``python -I -m sandbox.template FD``: the template process (``forkserver.py``).

``atfork.forget()`` runs first, before ``random``, ``threading`` and ``logging`` register
their at-fork hooks (``atfork.py`` says why); every other import comes after it.
"""

from sandbox.template import atfork

atfork.forget()

from sandbox.template import forkserver  # noqa: E402 - after atfork.forget(), on purpose

forkserver.main()
