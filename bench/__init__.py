"""toolpool's load harness: latency, throughput and the cost of isolation (see bench/README.md)."""
