"""The datastore: a storage interface (local directory, S3), content-addressed objects, artifact
serialisation and the layout of keys. See docs/architecture.md, "Datastore layout"."""
