"""toolpool's service: gRPC servicer, tenancy, admission, storage, client and CLI."""
