"""Behaviour: Metaflow's ``Config``: values fixed when the flow is compiled (a default file read
then, a default value, a parser), used in decorator arguments (``config.key``, ``config_expr``,
``**config``), in a Parameter default, and read in steps as immutable artifacts."""

import os

from flowc import Config, FlowSpec, Parameter, config_expr, environment, retry, step


def pairs(text):
    return dict(item.split("=", 1) for item in text.split(";") if item)


class ConfigFlow(FlowSpec):
    settings = Config("settings", default=os.path.join(os.path.dirname(__file__), "config_flow.json"))
    extra = Config("extra", default_value="size=large;shape=round", parser=pairs)
    rows = Parameter("rows", type=int, default=config_expr("settings").limits.rows)

    @retry(times=settings.retries, minutes_between_retries=0)
    @environment(vars={"GREETING": config_expr("settings.greeting.upper()"), **settings.env})
    @step
    def start(self):
        self.seen = {
            "greeting": os.environ["GREETING"],
            "colour": os.environ.get("COLOUR"),
            "rows": self.rows,
            "size": self.extra.size,
        }
        try:
            self.settings["greeting"] = "changed"
        except TypeError:
            self.immutable = True
        self.next(self.end)

    @environment(**settings.end_decorator)
    @step
    def end(self):
        self.shape = os.environ["SHAPE"]
        self.settings_seen = self.settings.to_dict()


if __name__ == "__main__":
    ConfigFlow()
