from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]
