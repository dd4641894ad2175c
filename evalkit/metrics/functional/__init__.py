"""Pure numpy math for the metrics: no models, no files."""
