"""The demo's Payments API (``urn:demo:payments``): a resource server that executes fake transfers."""
