"""The graph as storage: the driver, the audit log, the caller directory and the workflows
that write."""
