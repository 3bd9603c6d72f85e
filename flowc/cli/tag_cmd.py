"""``flowc tag add|remove|replace|list --run-id Flow/RUN_ID ...``: a run's user tags after the fact.

Metaflow's command, with its forms: ``python FLOW.py tag add --run-id RUN_ID TAG...`` (the flow is
the file's), ``replace OLD NEW`` or ``replace --remove OLD --add NEW`` (repeatable), ``list --flat
[--hide-system-tags]``. As in Metaflow, ``list`` prints on stderr: a title line, then one tag a line.
"""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "add, remove, replace or list a run's tags (Metaflow's `tag` command)"


#: Options that take a value (to tell their values from the TAG words).
_VALUE_OPTIONS = frozenset({"--run-id", "--remove", "--add", "--datastore", "--flow-name"})


def _options_first(argv: list[str]) -> None:
    """Moves the options before the positional words, in place: argparse fills ``TAG...`` from the
    first run of positional words only, and Metaflow's form puts ``--run-id R`` between them."""
    options: list[str] = []
    words: list[str] = []
    i = 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("-"):
            takes_value = word in _VALUE_OPTIONS and i + 1 < len(argv)
            options.extend(argv[i : i + 2] if takes_value else [word])
            i += 2 if takes_value else 1
        else:
            words.append(word)
            i += 1
    argv[1:] = [*options, *words]


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    _options_first(argv)
    parser.add_argument("action", choices=("add", "remove", "replace", "list"))
    parser.add_argument("tags", nargs="*", metavar="TAG", help="tags to add / remove; replace: OLD NEW")
    parser.add_argument(
        "--run-id", required=True, metavar="RUN", help="Flow/run_id (run_id under python FLOW.py)"
    )
    parser.add_argument(
        "--remove", action="append", default=[], metavar="TAG", help="replace: a tag to remove"
    )
    parser.add_argument("--add", action="append", default=[], metavar="TAG", help="replace: a tag to add")
    parser.add_argument("--flat", action="store_true", help="list: one tag a line (the only form)")
    parser.add_argument("--hide-system-tags", action="store_true", help="list: user tags only")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    add_flow_name_option(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Run

    pathspec = full_pathspec(args.run_id, args.flow_name, (2,))
    try:
        run = Run(pathspec, datastore=args.datastore, _namespace_check=False)
        if args.action == "list":
            tags = run.user_tags if args.hide_system_tags else run.tags
            print(f"Tags of run {run.pathspec}:", file=sys.stderr)
            for tag in sorted(tags):
                print(tag, file=sys.stderr)
            return 0
        if args.action == "add":
            run.add_tags(args.tags)
        elif args.action == "remove":
            run.remove_tags(args.tags)
        else:
            remove, add = list(args.remove), list(args.add)
            if args.tags:
                if len(args.tags) != 2 or remove or add:
                    print("flowc tag: replace takes OLD NEW, or --remove/--add", file=sys.stderr)
                    return 2
                remove, add = [args.tags[0]], [args.tags[1]]
            run.replace_tags(remove, add)
    except (MetaflowNotFound, ValueError) as exc:
        print(f"flowc tag: {exc}", file=sys.stderr)
        return 1
    return 0
