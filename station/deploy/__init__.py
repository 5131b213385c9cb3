"""Deployment checks run on a developer's machine or in CI, never on the station itself."""
