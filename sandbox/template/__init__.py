"""The template process: trusted, never runs tool code. It imports the child runtime and
confines itself once (``forkserver.py``), then forks the children the pool asks for and
reaps them. Started as ``python -I -m sandbox.template FD`` (``__main__.py``).

This file imports nothing: ``atfork.forget()`` must run before anything else is imported.
"""
