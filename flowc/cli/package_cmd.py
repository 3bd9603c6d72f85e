"""``flowc package FLOW.py [--datastore URL]``: build the code package and store it in the datastore."""

from __future__ import annotations

import argparse
import json
import os
import sys

HELP = "build the flow's code package (deterministic) and store it in the datastore; print its URL and hash"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument(
        "--datastore", help="datastore root (s3://bucket/prefix or a path); default: configuration"
    )
    parser.add_argument(
        "--include", action="append", default=[], metavar="GLOB", help="also package these files"
    )
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="leave these files out"
    )
    parser.add_argument("--dry-run", action="store_true", help="build and print the hash; store nothing")
    parser.add_argument("--json", action="store_true", help="print {sha, url, size, files} as JSON")


def run(args: argparse.Namespace) -> int:
    from flowc.config import ConfigError, load_settings
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.package import PackageError, build_package, package_url, store_package

    try:
        settings = load_settings({"datastore": args.datastore})
        package = build_package(args.flow, include=args.include, exclude=args.exclude, settings=settings)
        datastore = str(settings["datastore"])
        if not datastore.startswith("s3://"):
            datastore = os.path.abspath(datastore)
        if args.dry_run:
            url = package_url(datastore, package.sha)
        else:
            url = store_package(open_storage(datastore, settings), package)
    except (PackageError, ConfigError) as exc:
        print(f"flowc package: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"flowc package: cannot store the package: {exc}", file=sys.stderr)
        return 1
    if args.json:
        summary = {"sha": package.sha, "url": url, "size": package.size, "files": list(package.files)}
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(f"sha256 {package.sha}")
        print(f"url    {url}")
        print(f"size   {package.size} bytes, {len(package.files)} files")
    return 0
