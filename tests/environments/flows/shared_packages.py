"""A base flow that declares the flow's packages: a flow in another file inherits them."""

from flowc import FlowSpec, pypi_base


@pypi_base(packages={"tinypkg": "1.0"})
class TinyPackagesFlow(FlowSpec):
    pass
