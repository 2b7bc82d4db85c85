"""Private helpers shared across scrutiny's subpackages."""
