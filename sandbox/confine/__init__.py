"""Kernel confinement of the child processes that run tenant tools.

Trusted code. Each file says which process runs it; import from the file itself (this
package re-exports nothing, so that the supervisor, which needs only the data, never
loads the libc bindings the template and the children use):

    config.py         ConfinementConfig, Prepared: plain data. The supervisor builds the
                      config and sends it to the template as JSON; the template builds
                      ``Prepared``; each child inherits it through fork()
    template_side.py  prepare_template: run ONCE in the template, after it imported the
                      child runtime and before it forks (DEFAULT_PRELOAD, namespaces,
                      the minimal root, capabilities, the seccomp filter compiled)
    seccomp.py        the seccomp policy as data (SECCOMP_ALLOW, SECCOMP_REFUSED, one
                      reason per row) and its compilation to classic BPF, in the template
    child_side.py     confine_child / child_steps: run in every child right after fork(),
                      before it reads a byte of tool input; afterwards it is hostile
    syscalls.py       the ctypes bindings both of those call, resolved in the template
                      before pivot_root
    selftest.py       check_probe_results: the supervisor's verdict on the start-up
                      self-test, which a confined child runs (sandbox/child/probes.py)

What each layer stops (README "Threat model" says which test proves it):

    network namespace, lo left down        any network access, the host's loopback
                                           services and cloud metadata included
    mount namespace, pivot_root into an    /etc, /proc, the project's files, other
    empty read-only root, chroot, private  tenants' code; filling the disk; the chroot
    size-capped /tmp per child             also shuts the door to user namespaces
    IPC and UTS namespaces                 the host's SysV IPC and message queues
    seccomp allowlist (default EPERM,      new processes and threads, execve, ptrace,
    foreign ABIs killed)                   new sockets, mount, unshare/setns, bpf,
                                           keyctl, io_uring, signals, executable memory
    own uid (or no capabilities in a user  signalling or tracing sibling children,
    namespace), NO_NEW_PRIVS, not dumpable regaining privileges
    rlimits, RLIMIT_NPROC 0                CPU, memory, file size, open files, forks
    empty environment, fds closed          secrets through /proc/self/environ or an
                                           inherited descriptor
    parent-death signal                    a child outliving its template
    start-up self-test                     running unconfined by accident: a missing
                                           kernel feature stops the pool, naming it

Test-only switches on ``ConfinementConfig`` (``test_only_*``) disable ONE layer so a
test can show that each remaining layer stops its attack on its own; production never
sets them. ``enabled=False`` is the explicit development opt-out
(``--insecure-no-confinement``).
"""
