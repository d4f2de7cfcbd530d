"""The lowest layer: plain helpers every app may use (money, quantities, the clock).

Nothing here imports an app of the project; no models live here.
"""
