"""Tests of the core: catalogue, validation, compiler, naming and code export."""
