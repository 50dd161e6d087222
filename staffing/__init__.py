"""staffing domain."""
