"""The supervisor's side of the sandbox: trusted, runs in the server (or the CLI).

It starts the template and keeps a pool of confined children (``pool.py``; the template's
control socket and reports in ``template_control.py``, one child's handle and the wait
for its answer in ``children.py``), sends each call and reads its answer (``call.py``),
judges how a child ended from the kernel's own account (``verdict.py``), validates what
a child sent back (``normalize.py``), compiles uploads in confined workers
(``confined_compile.py``), and puts children in their tenant's CPU group
(``cgroups.py``, ``cgroup_host.py``). Nothing here runs tool code, and nothing a child
sends is trusted before ``normalize.py`` has checked it.
"""
