"""The client API (Metaflow-compatible): read runs, tasks, artifacts and logs back from a datastore.

```python
from flowc import Flow, namespace
run = Flow("HelloFlow").latest_successful_run
print(run.data.message, run["start"].task.data.x, run["start"].task.stdout)
```
"""

from __future__ import annotations

from flowc.client.namespaces import default_namespace, get_namespace, namespace
from flowc.client.objects import (
    DataArtifact,
    Flow,
    MetaflowData,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    MissingTasks,
    Run,
    Step,
    Task,
    TaskException,
)

__all__ = [
    "DataArtifact",
    "Flow",
    "MetaflowData",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MissingTasks",
    "Run",
    "Step",
    "Task",
    "TaskException",
    "default_namespace",
    "get_namespace",
    "namespace",
]
