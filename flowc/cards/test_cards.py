"""Metaflow's test card types and components, for Metaflow's card tests run on flowc.

The same behaviour as ``metaflow.plugins.cards.card_modules.test_cards`` (what
``../shared/metaflow-core/tests/card_*.py`` use), written against flowc's card API.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import time
from typing import Any

from flowc.cards.card import MetaflowCard, MetaflowCardComponent

__all__ = [
    "TestEditableCard",
    "TestEditableCard2",
    "TestErrorCard",
    "TestJSONComponent",
    "TestMockCard",
    "TestNonEditableCard",
    "TestPathSpecCard",
    "TestRefreshCard",
    "TestRefreshComponentCard",
    "TestStringComponent",
    "TestTimeoutCard",
]


class TestStringComponent(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, text: Any) -> None:
        self._text = text

    def render(self) -> str:
        return str(self._text)

    def update(self, text: Any) -> None:
        self._text = text


class TestJSONComponent(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, data: Any) -> None:
        self._data = data

    def render(self) -> Any:
        return self._data

    def update(self, data: Any) -> None:
        self._data = data


class TestPathSpecCard(MetaflowCard):
    type = "test_pathspec_card"

    def render(self, task: Any) -> str:
        suffix = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        return f"{task.pathspec} {suffix}"


class _JoinedCard(MetaflowCard):
    separator = "$&#!!@*"

    def __init__(self, components: Any = None, **kwargs: Any) -> None:
        self._components = list(components or [])

    def render(self, task: Any) -> str:
        return self.separator.join(str(component) for component in self._components)


class TestEditableCard(_JoinedCard):
    type = "test_editable_card"
    ALLOW_USER_COMPONENTS = True


class TestEditableCard2(_JoinedCard):
    type = "test_editable_card_2"
    ALLOW_USER_COMPONENTS = True


class TestNonEditableCard(_JoinedCard):
    type = "test_non_editable_card"


class TestMockCard(MetaflowCard):
    type = "test_mock_card"

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._key = (options or {}).get("key", "dummy_key")

    def render(self, task: Any) -> str:
        return f"{task[self._key].data}"


class TestErrorCard(MetaflowCard):
    type = "test_error_card"

    def render(self, task: Any) -> str:
        raise Exception("Unknown Things Happened")


class TestTimeoutCard(MetaflowCard):
    type = "test_timeout_card"

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._timeout = (options or {}).get("timeout", 10)

    def render(self, task: Any) -> str:
        time.sleep(self._timeout)
        return f"{task.pathspec}"


_REFRESHABLE_HTML = """
<html>
<script>
var METAFLOW_RELOAD_TOKEN = "[METAFLOW_RELOAD_TOKEN]"

window.metaflow_card_update = function(data) {
    document.querySelector("h1").innerHTML = JSON.stringify(data);
}
</script>
<h1>[PATHSPEC]</h1>
<h1>[REPLACE_CONTENT_HERE]</h1>
</html>
"""


class TestRefreshCard(MetaflowCard):
    type = "test_refresh_card"
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ALWAYS

    def render(self, task: Any) -> str:
        return self._render(task, self.runtime_data)

    def _render(self, task: Any, data: Any) -> str:
        return _REFRESHABLE_HTML.replace("[REPLACE_CONTENT_HERE]", json.dumps(data["user"])).replace(
            "[PATHSPEC]", task.pathspec
        )

    def render_runtime(self, task: Any, data: Any) -> str:
        return self._render(task, data)

    def refresh(self, task: Any, data: Any) -> Any:
        return data


def _component_values_to_hash(components: dict[str, Any]) -> str:
    joined = ",".join("".join(x) for v in components.values() for x in v)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class TestRefreshComponentCard(MetaflowCard):
    type = "test_component_refresh_card"
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ONCHANGE

    def __init__(self, components: Any = None, **kwargs: Any) -> None:
        self._components = list(components or [])

    def render(self, task: Any) -> str:
        return _REFRESHABLE_HTML.replace("[REPLACE_CONTENT_HERE]", json.dumps(self._components)).replace(
            "[PATHSPEC]", task.pathspec
        )

    def render_runtime(self, task: Any, data: Any) -> str:
        return self.render(task)

    def refresh(self, task: Any, data: Any) -> Any:
        return data["components"]

    def reload_content_token(self, task: Any, data: Any) -> str:
        if task.finished:
            return "final"
        return f"runtime-{_component_values_to_hash(data['components'])}"
