"""Report queries: plain records for the one renderer."""
