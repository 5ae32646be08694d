"""The built-in doctor checks, registered through ``register_doctor_checks`` like a plugin's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lynkr_cli import hookimpl


@hookimpl
def register_doctor_checks(register: Callable[[Any], Any]) -> None:
    # Imported here, not at module level: plugin loading (and `lynkr --help`) stays light.
    from lynkr_cli.doctor import checks_deep, checks_env, checks_net, checks_system
    from lynkr_cli.registry import DoctorCheck

    for name, group, run in [*checks_env.CHECKS, *checks_net.CHECKS, *checks_system.CHECKS]:
        register(DoctorCheck(name=name, run=run, group=group))
    # It costs a short streamed answer upstream, so only `--deep` runs it.
    register(
        DoctorCheck(
            name="stream-buffering",
            run=checks_deep.stream_buffering,
            group="claude",
            deep_only=True,
        )
    )
