"""Person-linkage benchmarks: labelled datasets in the shared record schema, and the metrics."""
