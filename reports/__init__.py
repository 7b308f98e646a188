"""Report writers and templates (shipped as scanner.reports)."""
