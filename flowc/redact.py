"""Credentials in URLs never reach a console, a log line or a stored record.

An S3 endpoint or an API server given as ``http://user:password@host`` appears in error messages
(botocore's "Could not connect to the endpoint URL: ...", flowc's own "cannot reach ..."); every
place that turns such an error into text passes it through :func:`mask_credentials`. The function
itself lives in the bootstrap program, which runs in images without flowc and must mask too.
"""

from __future__ import annotations

from flowc.task_runner.bootstrap_program import MASK, mask_credentials

__all__ = ["MASK", "mask_credentials"]
