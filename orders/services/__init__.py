"""Order services: every change of an order goes through a function here (one per action)."""
