"""jaxpat's conformance suite: a pytest plugin that checks implementations against the catalog."""
