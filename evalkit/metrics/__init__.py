"""Metrics: features -> FID/KID, CLIP score. Pure math lives in metrics.functional."""
