"""The shipped fault-injection drills (YAML scenario files, data only; the format is README.md here)."""
