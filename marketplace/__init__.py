"""Marketplace: the service catalogue, provider offerings, the public self-paid shop
and Stripe payments."""
