"""Camera-only jump counting (stations without a mat, and offline analysis)."""
