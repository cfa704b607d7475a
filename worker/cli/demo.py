"""``toolpool demo``: start the service on its embedded defaults and send it real calls.

It starts a server exactly as ``toolpool serve`` does (port 50051, SQLite under the
state directory, a development token; ``./dev.sh demo`` gives it ``--state-dir .state``
inside the checkout, so two checkouts never share a database or a token), then acts as
an orchestrator would: it sets a
tenant secret, deploys a ``start_function`` written as the platform's pages show, runs
it for a caller, and runs two tools that fail (a runaway loop killed at its deadline, and code
the policy refuses at deploy time). It keeps serving afterwards, so ``toolpool call``
and grpcurl can be tried against it, until Ctrl-C or SIGTERM; ``--once`` stops after
the demo.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import click

from worker.cli.common import command, config_option

TENANT = "demo"

# A start tool in the style of the platform's pages (002, 004): route by the dialled
# number, look the caller up with a tenant secret, greet from the variant's columns.
START_TOOL = """\
from datetime import datetime

def start_function(conv: Conversation):
    conv.state.call_started = datetime.now().strftime("%H:%M")
    conv.state.booking_time = None   # not yet collected
    sites = {variant.callee: name for name, variant in conv.variants.items()}
    site = sites.get(conv.callee_number, "default")
    conv.set_variant(site)
    if conv.integration_attributes:
        conv.state.shared_id = conv.integration_attributes.get("shared_id")
    api_key = conv.utils.get_secret("crm_api_key")
    log.info(f"looked up {conv.caller_number} with key {api_key}")
    return {
        "utterance": f"Welcome to {conv.variants[site].site_name}. How can I help you today?",
        "listen": {"asr": {"timeout": 15}},
    }
"""

RUNAWAY_TOOL = """\
def check_availability(conv: Conversation, date: str):
    while True:
        pass
"""

HOSTILE_TOOL = """\
def steal(conv: Conversation):
    return ().__class__.__bases__[0].__subclasses__()
"""

CONVERSATION = {
    "state": {"from_": "+15551230000", "to": "+441234567890", "call_sid": "CA-demo-1", "asr_lang_code": "en-US"},
    "env": "sandbox",
    "channel_type": "sip.polyai",
    "caller_number": "+15551230000",
    "callee_number": "+441234567890",
    "sip_headers": {"X-Language": "en"},
    "integration_attributes": {"shared_id": "SH-42"},
    "variants": {
        "london": {"site_name": "London Bridge", "callee": "+441234567890"},
        "new_york": {"site_name": "Fifth Avenue", "callee": "+442345678901"},
        "default": {"site_name": "Main Street", "callee": None},
    },
    "variant": "default",
}


def say(text: str) -> None:
    print(text, flush=True)


def show(title: str, value: Any) -> None:
    say(f"\n== {title}")
    say(json.dumps(value, indent=2, ensure_ascii=False))


def run_demo(target: str, token: str) -> bool:
    """Act as an orchestrator against the server at ``target``. True when every step behaved."""
    from toolpool import Client, CompileFailed

    ok = True
    with Client(target, token) as client:
        client.set_secret(TENANT, "crm_api_key", "sk-demo-0123456789")
        say("== set secret crm_api_key for tenant 'demo' (write-only: it can never be read back)")
        deployment = client.deploy(TENANT, {"start.py": START_TOOL, "availability.py": RUNAWAY_TOOL}, alias="latest")
        say(f"== deployed version {deployment.version_id} as 'latest'")

        result = client.execute(TENANT, "start_function", alias="latest", conversation=CONVERSATION, deadline_ms=1000)
        show("start_function for a caller to +441234567890 (the secret is redacted from the logs)", result.to_dict())
        ok &= result.status.value == "ok"

        result = client.execute(
            TENANT,
            "check_availability",
            alias="latest",
            args={"date": "2026-12-01"},
            conversation=CONVERSATION,
            deadline_ms=200,
        )
        show(
            "a runaway tool, killed at its 200 ms deadline",
            {
                "status": result.status.value,
                "error": result.error.to_dict() if result.error else None,
                "usage": result.usage.to_dict(),
            },
        )
        ok &= result.status.value == "timeout"

        try:
            client.deploy(TENANT, {"steal.py": HOSTILE_TOOL})
            ok = False
            say("\n== UNEXPECTED: the hostile tool was accepted")
        except CompileFailed as failed:
            show(
                "a hostile tool, refused at deploy time",
                [{"file": file, "line": line, "message": message} for file, line, message in failed.errors],
            )
    return ok


@command("demo", short_help="Start the service on its embedded defaults and send it real calls.")
@config_option
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 50051; 0 picks a free one).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where the database, secrets key and development token go (also TOOLPOOL_STATE_DIR).",
)
@click.option("--once", is_flag=True, help="Stop after the demo instead of serving on.")
@click.option(
    "--insecure-no-confinement",
    is_flag=True,
    help="DEVELOPMENT ONLY: run children without namespaces, seccomp or uid drop.",
)
def demo(
    config_file: str | None, port: int | None, state_dir: str | None, once: bool, insecure_no_confinement: bool
) -> int:
    """Start the service as `toolpool serve` does, then act as an orchestrator: set a
    secret, deploy a start_function, call it, and show a runaway tool and a hostile one
    being stopped. Keeps serving afterwards (for `toolpool call`) unless --once."""
    from sandbox.errors import ConfinementUnavailable
    from toolpool import CallError
    from worker.cli.errors import EXIT_OK, EXIT_TOOL_FAILED, BadInput, NoConfinement
    from worker.config import ConfigError, load_config, read_token_file
    from worker.server import ListenError, serve_forever

    overrides = {"port": port, "state_dir": state_dir, "pool.insecure_no_confinement": insecure_no_confinement or None}
    try:
        config = load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        raise BadInput(f"configuration: {exc}") from None
    outcome = {"ok": False}

    def after_start(bound: int) -> None:
        target = f"{config.host}:{bound}"
        say(f"== toolpool is serving on {target} (fresh confined process per call); state in {config.state_dir}")
        token = os.environ.get("TOOLPOOL_TOKEN") or read_token_file(config.token_file)
        try:
            if token is None:  # the server writes its development token before it serves
                click.echo(f"toolpool demo: no token: set TOOLPOOL_TOKEN or write one to {config.token_file}", err=True)
            else:
                outcome["ok"] = run_demo(target, token)
        except CallError as exc:
            click.echo(f"toolpool demo: the service refused a demo call: {exc}", err=True)
        if once:
            os.kill(os.getpid(), signal.SIGTERM)  # serve_forever drains and returns
        else:
            say(
                f"\n== still serving on {target}; try:\n"
                f"   TOOLPOOL_STATE_DIR={config.state_dir} .venv/bin/toolpool call --target {target} "
                f"--tenant {TENANT} --alias latest start_function\n"
                "   Ctrl-C to stop"
            )

    try:
        serve_forever(config, announce=after_start)
    except ListenError as exc:
        raise BadInput(str(exc)) from None
    except ConfinementUnavailable as exc:
        raise NoConfinement(str(exc)) from None
    return EXIT_OK if outcome["ok"] else EXIT_TOOL_FAILED
