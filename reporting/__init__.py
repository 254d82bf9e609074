"""`make report`: stops and savings from the audit table, by owner, kind or day.

Reads a deployed stack's table with the caller's AWS credentials, or the local runtime's
table saved by the last `make demo` / `make simulate`. Queries, never scans.
"""
