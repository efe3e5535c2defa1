"""Ledger exports: projections (tables), proofs and one writer per format."""
