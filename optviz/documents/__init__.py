"""The fourth floor: files that describe runs, and the files runs make. Scenario files (TOML,
validated before any work; the bundled ones are in optviz/scenarios), the gallery built from
them, a run's pictures and data as a command asks for them, and a model's landscape from a
spec file."""
