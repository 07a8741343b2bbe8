"""The test suite: unit, HTTP, property, contract, drill and served tests."""
