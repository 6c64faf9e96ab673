"""Dashboard pages, one module per section; each module has a `router`."""
