"""The authoring API (Metaflow-compatible): what a flow file imports from :mod:`flowc`."""
