"""``Parameter``, ``JSONType`` and ``IncludeFile``: flow inputs declared as class attributes.

Declared as in Metaflow. On a running task the attribute reads the parameter's value, which the
start task stored as an artifact; the front end reads the declarations (name, type, default,
required, help) into :class:`flowc.ir.ParameterSpec`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["IncludeFile", "IncludedFile", "JSONType", "Parameter", "ParameterContext"]


class ParameterContext(NamedTuple):
    """What a callable default receives (Metaflow's ``ParameterContext``, same fields).

    Attributes:
        flow_name: the flow's class name.
        user_name: the user the run is recorded under.
        parameter_name: the parameter being evaluated.
        logger: prints one line (as Metaflow's echo does).
        ds_type: the datastore's kind: ``local`` or ``s3``.
        configs: Metaflow's flow configs; flowc has none (``None``).
    """

    flow_name: str
    user_name: str
    parameter_name: str
    logger: Callable[..., None]
    ds_type: str
    configs: Any = None


class _JSONTypeMarker:
    """Marker type: the parameter's value is a JSON document (``type=JSONType``)."""

    name = "json"

    def __call__(self, text: str) -> Any:
        return json.loads(text)

    def __repr__(self) -> str:
        return "JSONType"


JSONType = _JSONTypeMarker()


class Parameter:
    """A flow parameter, read in every step as ``self.<name>``.

    Args:
        name: the parameter's name on the command line (``--name VALUE``).
        default: value when none is given; a callable default is evaluated where the run starts.
        type: str, int, float, bool or ``JSONType`` (inferred from ``default`` when omitted).
        help: one line shown by ``flowc run --help``.
        required: the run refuses to start without a value.
    """

    IS_FILE = False

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        help: str | None = None,
        required: bool | None = None,
        show_default: bool = True,
        separator: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.default = default
        self.type = type
        self.help = help
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.kwargs = kwargs
        self.attribute: str | None = None

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        # The value is an artifact of the run (stored by the start task, inherited by every task).
        return instance._flowc_artifact(self.attribute or self.name)

    def __set__(self, instance: Any, value: Any) -> None:
        # Metaflow makes parameters read-only properties of the flow: assigning one raises.
        raise AttributeError(
            "Flow level attributes and Parameters are not modifiable: "
            f"{self.attribute or self.name!r} is a parameter"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class IncludeFile(Parameter):
    """A parameter whose value is the content of a local file, read where the run starts.

    Args:
        name: the parameter's name on the command line (``--name PATH``).
        is_text: decode the file as text (else the value is ``bytes``).
        encoding: text encoding when ``is_text``.
    """

    IS_FILE = True

    def __init__(
        self,
        name: str,
        required: bool | None = None,
        is_text: bool = True,
        encoding: str = "utf-8",
        help: str | None = None,
        default: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = is_text
        self.encoding = encoding


class IncludedFile:
    """Metaflow's wrapper of an included file's value (``metaflow.includefile.IncludedFile``).

    flowc stores the file's content itself as the artifact, so no value is ever one of these; the
    name exists for scripts that test ``isinstance(value, IncludedFile)``.
    """

    descriptor: str = ""
