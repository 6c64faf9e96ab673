"""Shared kernel: database, errors, schemas, auth plumbing. Imports no domain."""
