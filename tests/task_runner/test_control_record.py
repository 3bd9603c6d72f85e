"""The control record (flowc/control.py): one typed, versioned structure every reader names fields from."""

from __future__ import annotations

import dataclasses

import pytest

from flowc.backends.airflow import dag_runtime
from flowc.control import CONTROL_VERSION, ControlRecord, Field

RECORD = ControlRecord(
    step="pick",
    task_id="pick-3.1",
    index_path=(3,),
    transition="switch",
    next=("again",),
    switch_case="again",
    iteration=1,
    next_iteration=2,
)


def test_a_record_reads_back_as_it_was_written() -> None:
    data = RECORD.to_json()
    assert data[Field.VERSION] == CONTROL_VERSION and data[Field.INDEX_PATH] == [3]
    assert ControlRecord.from_json(data) == RECORD


def test_every_field_has_its_name_in_field_and_nothing_else_does() -> None:
    assert {f.name for f in dataclasses.fields(ControlRecord)} == {str(f) for f in Field}
    assert set(RECORD.to_json()) == {str(f) for f in Field}


def test_a_record_of_another_version_or_without_a_field_is_refused() -> None:
    with pytest.raises(ValueError, match="version 2"):
        ControlRecord.from_json({**RECORD.to_json(), Field.VERSION: 2})
    partial = RECORD.to_json()
    del partial[Field.NEXT]
    with pytest.raises(ValueError, match="'next'"):
        ControlRecord.from_json(partial)
    unversioned = RECORD.to_json()
    del unversioned[Field.VERSION]  # written before the field existed: version 1
    assert ControlRecord.from_json(unversioned) == RECORD


def test_the_airflow_dag_runtime_reads_the_same_field_names() -> None:
    """The DAG runtime cannot import flowc (it runs in Airflow's scheduler): its copies must agree."""
    assert (
        dag_runtime.NEXT,
        dag_runtime.NEXT_ITERATION,
        dag_runtime.ITERATION_FIELD,
        dag_runtime.INDEX_PATH,
        dag_runtime.NUM_SPLITS,
    ) == (Field.NEXT, Field.NEXT_ITERATION, Field.ITERATION, Field.INDEX_PATH, Field.NUM_SPLITS)
