"""The YAML writer: whatever JSON-like data goes in, PyYAML reads the same data back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flowc.backends.argo.yamltext import dump

_keys = st.text(min_size=1, max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "null",
            "~",
            "1e3",
            "0x1F",
            "2026-01-01",
            "- x",
            "a: b",
            "#c",
            "*a",
            "&a",
            "!t",
            "'q'",
            ".inf",
            "two\nlines\n",
            "no final\nnewline",
            "  indented\nfirst",
            "trailing \nblank",
            "blank\n\nline\n",
            "ends\n\n",
            "\nstarts blank",
            "- a\n# b\n",
            "tab\tin\nit\n",
        ]
    )
    | st.lists(st.sampled_from(["a", " b", "", "c: d", "#", "\t", "  "]), max_size=5).map("\n".join)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_round_trip(document: dict) -> None:
    import yaml

    assert yaml.safe_load(dump(document)) == (document or None)


def test_plain_where_safe_and_quoted_otherwise() -> None:
    assert dump({"a": "main", "b": "yes", "c": "1", "d": "{{x}}", "e": []}) == (
        'a: main\nb: "yes"\nc: "1"\nd: "{{x}}"\ne: []\n'
    )


def test_multi_line_text_is_a_literal_block() -> None:
    import yaml

    text = 'import os\n\ndef f():\n    return "x"\n'
    written = dump({"a": [text], "b": "one\ntwo"})
    assert written == 'a:\n  - |\n    import os\n\n    def f():\n        return "x"\nb: |-\n  one\n  two\n'
    assert yaml.safe_load(written) == {"a": [text], "b": "one\ntwo"}
