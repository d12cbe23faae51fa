"""Revisits of archived articles: when each is due, what a visit shows (unchanged,
edited, gone, unreachable), and the visit itself through the fetch layer."""
