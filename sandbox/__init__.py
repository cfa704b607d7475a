"""toolpool's sandbox library: compile a tool, run one call in a confined child, normalize.

This package never imports grpc. A file's folder says which process runs it and what it
trusts (docs/architecture.md has the picture):

    sandbox/*.py          shared definitions, imported by several processes: the policy
                          and its tables, the error tree, results, bundles, the wire
                          protocol between supervisor and children, plain data
    sandbox/supervisor/   trusted, in the server (or the CLI): the pool, calls, verdicts,
                          normalizing what children send, confined compiles, cgroups
    sandbox/template/     trusted, its own process, never runs tool code: confines itself
                          once and forks the children
    sandbox/confine/      the confinement steps: prepared in the template, finished in
                          each child before it reads a byte of tool input
    sandbox/compile/      the policy compiler; in the server only inside a confined
                          compile worker (a child of the template)
    sandbox/child/        untrusted: runs next to tenant code, after confinement
    sandbox/egress/       trusted, in the server: tools' outbound HTTP, checked and bounded

The public surface:

    compile_tool, compile_bundle, Bundle, CompiledTool   (sandbox.compile.compiler)
    Pool, PoolConfig                                     (sandbox.supervisor.pool)
    CallRequest, CallInput, validate_input,
    requested_deadline                                   (sandbox.supervisor.call)
    Deadline                                             (sandbox.deadline)
    Result, Status, Usage, ErrorInfo                     (sandbox.result)
    Policy, Limits, DEFAULT_POLICY                       (sandbox.policy)
    the error tree                                       (sandbox.errors)

Import the submodules directly; this module stays light so that the confined child's
runtime (``sandbox.child``) can import ``sandbox`` without pulling the supervisor in.
"""
