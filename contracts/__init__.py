"""The contract: bundled OpenAPI documents, and the harness that checks any implementation."""
