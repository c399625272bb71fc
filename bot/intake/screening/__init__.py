"""Before a card is posted: near-duplicate and flood folding, one card per issue across platforms,
and the "handle with care" label.
"""
