"""The fourth floor: files that describe runs. Scenario files (TOML, validated before any
work), the bundled ones in optviz/scenarios, and the gallery built from them."""
