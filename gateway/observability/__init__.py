"""What operators watch: Prometheus metrics (``metrics``), OpenTelemetry traces (``tracing``),
and the few decorators that put both around the graph and the audit writer (``hooks``)."""
