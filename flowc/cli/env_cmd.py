"""``flowc env resolve|show FLOW.py``: the locks of a flow's ``@pypi`` environments (docs/environments.md)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "resolve (resolve) or print (show) the locks of the flow's @pypi environments"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("action", choices=("resolve", "show"), help="resolve: lock again; show: print")
    parser.add_argument("flow", help="the flow file")
    parser.add_argument("--datastore", help="datastore root (s3://bucket/prefix or a path)")
    parser.add_argument(
        "--platform",
        help="platform to lock for: this machine's (default, what `flowc run` uses), or 'deployed' "
        "(setting pypi.platform, what `flowc deploy` uses), or a name such as linux_aarch64",
    )
    parser.add_argument("--json", action="store_true", help="print the locks as JSON")


def run(args: argparse.Namespace) -> int:
    from flowc.config import load_settings
    from flowc.datastore.storage import open_storage
    from flowc.environments.install import running_python
    from flowc.environments.resolve import (
        PLATFORMS,
        ResolveError,
        environments_of,
        host_platform_name,
        latest_lock,
        lock_environments,
    )
    from flowc.frontend import CompileError, build_ir

    settings = load_settings({"datastore": args.datastore})
    platform = args.platform or host_platform_name()
    if platform == "deployed":
        platform = str(settings.get("pypi.platform"))
    if platform not in PLATFORMS and platform != host_platform_name():
        print(
            f"flowc env: unknown platform {platform!r} (one of {', '.join(sorted(PLATFORMS))})",
            file=sys.stderr,
        )
        return 2
    try:
        ir = build_ir(args.flow)
    except CompileError as exc:
        print(f"flowc env: {exc}", file=sys.stderr)
        return 2
    storage = open_storage(str(settings["datastore"]), settings)
    found = environments_of(ir)
    if args.action == "resolve":
        try:
            locks = lock_environments(ir, storage, settings, platform=platform, fresh=True)
        except ResolveError as exc:
            print(f"flowc env: {exc}", file=sys.stderr)
            return 1
    else:
        default_python = settings.get("pypi.python") or running_python()
        locks = {}
        for name, (environment, _) in found.items():
            lock = latest_lock(storage, name, platform, environment.python or default_python)
            if lock is not None:
                locks[name] = lock
    rows = []
    for name, (environment, steps) in found.items():
        lock = locks.get(name)
        rows.append(
            {
                "environment": name,
                "steps": steps,
                "requirements": list(environment.requirements),
                "python": environment.python,
                "lock": None if lock is None else {"sha": lock.sha, **json.loads(lock.to_bytes())},
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    if not rows:
        print(f"{ir.name} has no @pypi environment")
    for row in rows:
        print(
            f"{row['environment']}  steps {', '.join(row['steps'])}: {', '.join(row['requirements']) or '-'}"
        )
        lock = row["lock"]
        if lock is None:
            print(f"  not resolved for {platform} (flowc env resolve {args.flow})")
            continue
        print(f"  lock {lock['sha']}  Python {lock['python']}, {lock['platform']}")
        for wheel in lock["wheels"]:
            print(f"  {wheel['name']}=={wheel['version']}  {wheel['file']}  sha256:{wheel['sha256']}")
    return 0
