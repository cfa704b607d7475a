"""toolpool's sandbox library: compile a tool, run one call in a confined child, normalize.

This package never imports grpc. The public surface:

    compile_tool, compile_bundle, Bundle, CompiledTool   (sandbox.compiler)
    Pool, PoolConfig                                     (sandbox.pool)
    CallRequest                                          (sandbox.call)
    Result, Status, Usage, ErrorInfo                     (sandbox.result)
    Policy, Limits, DEFAULT_POLICY                       (sandbox.policy)
    the error tree                                       (sandbox.errors)

Import the submodules directly; this module stays light so that the confined child's
runtime (``sandbox.inside``) can import ``sandbox`` without pulling the supervisor in.
"""
