"""Pure functions and rules, without HTTP."""
