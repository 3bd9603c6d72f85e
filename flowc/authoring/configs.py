"""``Config`` and ``config_expr``: Metaflow's flow configurations (``metaflow/user_configs``).

A ``Config`` is declared as a class attribute. Its value is fixed once, when the flow is compiled,
deployed or its run starts (``--config NAME PATH``, ``--config-value NAME VALUE``, Metaflow's
``METAFLOW_FLOW_CONFIG(_VALUE)``, else its ``default`` file or ``default_value``), and never
changes within a run: the front end resolves it (:mod:`flowc.frontend.configs`), the IR carries
it, every task gets it, and steps read it as ``self.<name>``, an immutable :class:`ConfigValue`.

In the class body a config has no value yet: ``config.key`` and ``config_expr("...")`` are
:class:`DelayEvaluator` objects that decorator arguments and ``Parameter`` defaults hold until the
front end evaluates them with the resolved values (``**config`` unpacks one into keyword arguments,
as in Metaflow).
"""

from __future__ import annotations

import collections.abc
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flowc.authoring.parameters import Parameter

__all__ = [
    "UNPACK_KEY",
    "Config",
    "ConfigValue",
    "DelayEvaluator",
    "config_expr",
    "config_value",
    "has_delayed",
    "resolve_delayed",
]

#: The key ``**config`` unpacks to (Metaflow's): whoever evaluates the arguments merges its value.
UNPACK_KEY = "_unpacked_delayed_"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigValue(collections.abc.Mapping, dict):  # type: ignore[misc]
    """A config's value: a read-only mapping whose keys read as attributes too (``c.a.b``,
    ``c["a"]["b"]``); nested mappings are ConfigValues. Assigning raises TypeError, as in Metaflow.

    It is also a ``dict`` (``json.dumps`` and ``isinstance(v, dict)`` work) and pickles as its
    plain data.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", {k: _construct(v) for k, v in data.items()})
        dict.__init__(self, self._data)

    def to_dict(self) -> dict[str, Any]:
        """The value as plain dicts and lists."""
        return _to_plain(self._data)

    def __getattr__(self, key: str) -> Any:
        if key == "_data":  # while unpickling, before __init__
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> Any:
        return self._data.keys()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigValue):
            return self._data == other._data
        return isinstance(other, dict) and self._data == other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.to_dict(),))

    def __copy__(self) -> ConfigValue:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigValue:
        return self

    def _immutable(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ConfigValue is immutable")

    __setattr__ = __setitem__ = __delattr__ = __delitem__ = _immutable
    clear = update = setdefault = pop = popitem = _immutable


def _construct(value: Any) -> Any:
    if isinstance(value, ConfigValue):
        return value
    if isinstance(value, Mapping):
        return ConfigValue(value)
    if isinstance(value, list | tuple):
        return type(value)(_construct(v) for v in value)
    return value


def _to_plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_plain(v) for v in value)
    return value


class DelayEvaluator(collections.abc.Mapping):
    """A config expression evaluated once the configs have values (Metaflow's ``DelayEvaluator``).

    ``config.a.b`` and ``config_expr("config").a["b"]`` extend the expression; ``**evaluator``
    unpacks to one :data:`UNPACK_KEY` entry whose value is the evaluator itself.
    """

    def __init__(
        self,
        expression: str,
        namespace: Mapping[str, Any] | None = None,
        access: tuple[Any, ...] | None = None,
    ) -> None:
        self._expression = expression
        self._namespace = namespace  # the globals the expression was written in
        # Only a bare name can be extended with `.attr` / `[key]` (Metaflow's rule).
        self._access: tuple[Any, ...] | None = (
            access if access is not None else (() if _IDENTIFIER.match(expression) else None)
        )

    def _extended(self, key: Any) -> DelayEvaluator:
        return DelayEvaluator(self._expression, self._namespace, (*(self._access or ()), key))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or self._access is None:
            raise AttributeError(name)
        return self._extended(name)

    def __getitem__(self, key: Any) -> Any:
        if key == self._unpack_key:
            return self
        if self._access is None:
            raise KeyError(key)
        return self._extended(key)

    def __iter__(self) -> Iterator[str]:
        yield self._unpack_key

    def __len__(self) -> int:
        return 1

    @property
    def _unpack_key(self) -> str:
        return f"{UNPACK_KEY}{id(self)}"

    def __copy__(self) -> DelayEvaluator:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> DelayEvaluator:
        return self

    @property
    def expression(self) -> str:
        """The expression as Python text (``config.a.b``, ``config['a']``, ``str(config.v)``)."""
        text = self._expression
        for key in self._access or ():
            text += f".{key}" if isinstance(key, str) and _IDENTIFIER.match(key) else f"[{key!r}]"
        return text

    def evaluate(self, configs: Mapping[str, Any], namespace: Mapping[str, Any] | None = None) -> Any:
        """The expression's value with each config name bound to its value.

        ``namespace``: the flow module's globals, when the evaluator did not capture its own.
        """
        value = eval(self._expression, dict(self._namespace or namespace or {}), dict(configs))
        for key in self._access or ():
            key = key.evaluate(configs, namespace) if isinstance(key, DelayEvaluator) else key
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            else:
                value = getattr(value, key) if isinstance(key, str) else value[key]
        return value

    def __repr__(self) -> str:
        return f"config_expr({self.expression!r})"


def config_expr(expression: str) -> DelayEvaluator:
    """An expression over the flow's configs, evaluated when their values are known, for places a
    config attribute cannot reach (a flow decorator: ``@project(name=config_expr("cfg").name)``) or
    a computed value (``@environment(vars={"v": config_expr("str(cfg.n)")})``).

    Names in the expression other than configs are looked up in the module that calls this.
    """
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    return DelayEvaluator(expression, caller.f_globals if caller is not None else None)


class Config(Parameter):
    """A configuration of the flow, read in every step as ``self.<attribute>``.

    Args:
        name: the config's name (``--config NAME PATH`` / ``--config-value NAME VALUE``).
        default: a file to read the value from when none is given (a callable returns the path).
        default_value: the value (a dict or text to parse) when none is given; a callable is called
            with Metaflow's ``ParameterContext``. Give ``default`` or ``default_value``, not both.
        help: shown by ``flowc run --help``.
        required: a value must come from somewhere.
        parser: turns the text into the value (a callable, or ``"package.module.function"``);
            JSON by default.
        plain: the value as the parser returns it, not a :class:`ConfigValue`.
    """

    IS_CONFIG = True

    def __init__(
        self,
        name: str,
        default: str | Callable[..., str] | None = None,
        default_value: Any = None,
        help: str | None = None,
        required: bool | None = None,
        parser: str | Callable[[str], Any] | None = None,
        plain: bool = False,
        **kwargs: Any,
    ) -> None:
        if default is not None and default_value is not None:
            raise ValueError(f"config {name!r}: give default or default_value, not both")
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.default_value = default_value
        self.parser = parser
        self.plain = plain

    # `config.key` in the class body (decorator arguments, Parameter defaults).
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("attribute",):
            raise AttributeError(name)
        return getattr(DelayEvaluator(self.name), name)

    # `config["key"]` and `**config` in the class body.
    def __getitem__(self, key: Any) -> Any:
        return DelayEvaluator(self.name)[key] if not str(key).startswith(UNPACK_KEY) else self._unpacked

    def keys(self) -> list[str]:
        return [f"{UNPACK_KEY}{id(self)}"]

    @property
    def _unpacked(self) -> DelayEvaluator:
        return DelayEvaluator(self.name, access=())

    def __repr__(self) -> str:
        return f"Config({self.name!r})"


def has_delayed(value: Any) -> bool:
    """Whether ``value`` holds a config expression anywhere (in containers too)."""
    if isinstance(value, DelayEvaluator | Config):
        return True
    if isinstance(value, dict):
        return any(has_delayed(k) or has_delayed(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_delayed(v) for v in value)
    return False


def resolve_delayed(
    value: Any, configs: Mapping[str, Any], namespace: Mapping[str, Any] | None = None
) -> Any:
    """``value`` with every config expression evaluated (values as plain dicts/lists), and every
    ``**config`` entry of a dict merged into it (Metaflow's ``unpack_delayed_evaluator``).

    Raises:
        Exception: whatever evaluating an expression raises (NameError for an unknown name...).
    """
    if isinstance(value, Config):
        value = DelayEvaluator(value.name, access=())
    if isinstance(value, DelayEvaluator):
        return _to_plain(value.evaluate(configs, namespace))
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith(UNPACK_KEY):
                unpacked = resolve_delayed(item, configs, namespace)
                if not isinstance(unpacked, Mapping):
                    raise TypeError(f"** needs a mapping, and the config is {type(unpacked).__name__}")
                out.update(unpacked)
            else:
                out[resolve_delayed(key, configs, namespace)] = resolve_delayed(item, configs, namespace)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(resolve_delayed(v, configs, namespace) for v in value)
    return value


def config_value(value: Any, plain: bool) -> Any:
    """What a step reads for a config whose resolved (JSON) value is ``value``."""
    return value if plain or not isinstance(value, Mapping) else ConfigValue(value)
