"""Jinja2 templates of generated files (installed as the package ``flowc.templates``)."""
