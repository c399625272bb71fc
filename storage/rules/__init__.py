"""The stored rules with their history, and the routing figures that judge them."""
