"""appinstall's example connector; run it with ``python -m examples.echo_connector`` (see README.md)."""
