"""Tests of the web server (`server/app`), mirroring its modules."""
